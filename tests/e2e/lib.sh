# lib.sh: shared helpers of the end-to-end tests (tests/e2e/*.sh); source it.
#
# Each test script starts a real web server (lighttpd, Apache httpd or nginx)
# on 127.0.0.1 with a free high port, from a template in examples/, with
# keycard-fcgi deciding; then sends requests with curl and checks statuses,
# headers, bodies and the environment the CGI program saw. Everything runs in
# a fresh temporary directory; the processes the script started are stopped
# by their PIDs when it exits.
#
# Environment: KC_SRCDIR (source tree, default: two levels up), KC_BUILDDIR,
# KEYCARD (the keycard binary), KEYCARD_FCGI (default: keycard-fcgi next to
# KEYCARD), KC_E2E_KEEP=1 keeps the temporary directory.
# Exit status: 0 all passed, 1 something failed, 77 skipped (a server binary,
# keycard-fcgi, curl or keycard missing: said loudly on stderr), 99 harness error.
set -u

E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "${KC_SRCDIR:-$E2E_DIR/../..}" && pwd)
BUILD=$(cd "${KC_BUILDDIR:-$SRC/_build}" 2>/dev/null && pwd || echo "$SRC/_build")
KEYCARD=${KEYCARD:-$BUILD/keycard}
KEYCARD_FCGI=${KEYCARD_FCGI:-$(dirname "$KEYCARD")/keycard-fcgi}
EXAMPLES=$SRC/examples

passed=0
failed=0
E2E_PIDS=()

skip() {
	printf '\n*** SKIP %s: %s ***\n\n' "$E2E_NAME" "$*" >&2
	exit 77
}

# need_prog NAME...: skip unless every program is installed (PATH or sbin).
need_prog() {
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
			skip "$p is not installed (tests/install-deps.sh installs it)"
	done
}
prog_path() { command -v "$1" 2>/dev/null || echo "/usr/sbin/$1"; }

# child_of PARENT NAME: the PID of PARENT's child process called NAME (from
# /proc: no procps needed).
child_of() {
	local f pid comm ppid rest
	for f in /proc/[0-9]*/stat; do
		read -r pid comm rest 2>/dev/null <"$f" || continue
		ppid=${rest#* }
		ppid=${ppid%% *}
		if [ "$ppid" = "$1" ] && [ "$comm" = "($2)" ]; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# need_lighttpd_module NAME PACKAGE: skip unless lighttpd has mod_NAME.
need_lighttpd_module() {
	[ -e "/usr/lib/lighttpd/mod_$1.so" ] ||
		skip "lighttpd's mod_$1 is not installed (Debian: $2; tests/install-deps.sh installs it)"
}

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1${2:+ -- $2}"; }

# e2e_init: checks the prerequisites and makes the run directory $RUN with a
# copy of the CGI programs ($CGI_BIN), the keycard-fcgi binary and the demo
# policy plus tests/e2e/e2e.kc ($CONFIG), keys and tokens ($TOK_*).
e2e_init() {
	need_prog curl
	[ -x "$KEYCARD" ] || skip "keycard not built ($KEYCARD)"
	[ -x "$KEYCARD_FCGI" ] || skip "keycard-fcgi not built ($KEYCARD_FCGI)"
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/kc-e2e-$E2E_NAME.XXXXXX") || exit 99
	chmod 755 "$RUN"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
	# The servers drop root privileges: run them, and so keycard-fcgi and
	# the CGI programs, as an unprivileged user that can read $RUN.
	if [ "$(id -u)" -eq 0 ]; then
		if id www-data >/dev/null 2>&1; then RUN_USER=www-data; else RUN_USER=nobody; fi
		RUN_GROUP=$(id -gn "$RUN_USER")
	else
		RUN_USER=$(id -un)
		RUN_GROUP=$(id -gn)
	fi
	mkdir -p "$RUN/bin" "$RUN/htdocs" "$RUN/policy" "$RUN/logs"
	cp "$KEYCARD_FCGI" "$RUN/bin/keycard-fcgi"
	KC_FCGI=$RUN/bin/keycard-fcgi
	cp -R "$EXAMPLES/cgi-bin" "$RUN/cgi-bin"
	# The servers' header-stripping scripts, where the server user reads them.
	mkdir -p "$RUN/lua"
	cp "$EXAMPLES/lighttpd/keycard-strip.lua" "$RUN/lua/lighttpd-keycard-strip.lua"
	cp "$EXAMPLES/apache/keycard-strip.lua" "$RUN/lua/apache-keycard-strip.lua"
	CGI_BIN=$RUN/cgi-bin
	chmod 755 "$CGI_BIN" "$CGI_BIN"/*
	echo ok >"$RUN/htdocs/index.txt"
	cp -R "$EXAMPLES/policy/." "$RUN/policy/"
	cp "$E2E_DIR/e2e.kc" "$RUN/policy/resources/"
	CONFIG=$RUN/policy/main.kc
	make_tokens "$RUN/policy"
	chmod -R a+rX "$RUN"
	# The unprivileged user creates sockets and logs here.
	chown "$RUN_USER:$RUN_GROUP" "$RUN" "$RUN/logs" 2>/dev/null || true
}

e2e_cleanup() {
	local p i
	for p in "${E2E_PIDS[@]+"${E2E_PIDS[@]}"}"; do
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	E2E_PIDS=()
	if [ "${KC_E2E_KEEP:-0}" = 1 ]; then
		echo "(kept $RUN)" >&2
	else
		rm -rf "$RUN"
	fi
}

# make_tokens DIR: keys/demo.jwks for the policy and the tokens the cases use.
ISS=https://id.demo.test/
AUD=https://api.demo.test
make_tokens() {
	local d=$1 k=$1/demo.jwk now
	mkdir -p "$d/keys"
	"$KEYCARD" keygen --alg ES256 --kid demo-1 --public "$d/keys/demo.jwks" >"$k" || exit 99
	"$KEYCARD" keygen --alg ES256 --kid demo-1 >"$d/other.jwk" || exit 99
	now=$(date +%s)
	m() { "$KEYCARD" mint --key "$k" --iss "$ISS" --aud "$AUD" "$@" || exit 99; }
	TOK_ALICE=$(m --sub alice --claim client_id=demo-mobile --claim tenant=acme \
		--scope "r:devices:123 r:devices:555 x:devices:123")
	TOK_KIOSK=$(m --sub lobby --claim client_id=demo-kiosk --scope "r:devices:* x:devices:*")
	TOK_EXPIRED=$(m --sub alice --claim client_id=demo-mobile --now $((now - 7200)) --ttl 1h)
	TOK_BADSIG=$("$KEYCARD" mint --key "$d/other.jwk" --iss "$ISS" --aud "$AUD" --sub alice \
		--claim client_id=demo-mobile --scope "r:devices:123") || exit 99
	rm -f "$d/other.jwk"
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on, from
# 20000-31999: below Linux's ephemeral range (32768-60999), so no client
# connection of a test running beside this one holds it.
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "no free port found" >&2
	exit 99
}

# render TEMPLATE OUTPUT: replaces @NAME@ with $NAME for the known names.
render() {
	sed -e "s|@PORT@|$PORT|g" -e "s|@ROOT@|$RUN|g" -e "s|@USER@|$RUN_USER|g" \
		-e "s|@GROUP@|$RUN_GROUP|g" -e "s|@KEYCARD_FCGI@|$KC_FCGI|g" \
		-e "s|@CONFIG@|$CONFIG|g" -e "s|@CGI_BIN@|$CGI_BIN|g" \
		-e "s|@FCGI_PORT@|${FCGI_PORT:-}|g" -e "s|@FCGI_SOCKET@|${FCGI_SOCKET:-}|g" \
		-e "s|@APACHE_MODDIR@|${APACHE_MODDIR:-}|g" \
		-e "s|@KEYCARD_FCGI_DIR@|$(dirname "$KC_FCGI")|g" \
		-e "s|@KEYCARD_FCGI_NAME@|$(basename "$KC_FCGI")|g" \
		-e "s|@FASTCGI_PARAMS@|${FASTCGI_PARAMS:-}|g" \
		-e "s|@STRIP_LUA@|$RUN/lua/$(basename "$(dirname "$1")")-keycard-strip.lua|g" \
		"$1" >"$2" || exit 99
	if grep -n '@[A-Z_]*@' "$2" >&2; then
		echo "render: unreplaced placeholder in $2" >&2
		exit 99
	fi
}

# start_bg LOG CMD...: runs CMD (which stays in the foreground) in the
# background, remembering its PID for e2e_cleanup; sets $BG_PID.
start_bg() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 </dev/null &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}

# stop_pid PID: stops one process this script started.
stop_pid() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# wait_port PORT [PID]: until something accepts on 127.0.0.1:PORT (20 s).
wait_port() {
	local i
	for i in $(seq 1 400); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then break; fi
		sleep 0.05
	done
	if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
		echo "port $1 did not open: the server (pid $2) exited; logs:" >&2
	else
		echo "port $1 did not open in 20 s; logs:" >&2
	fi
	tail -n 20 "$RUN"/*.log "$RUN"/logs/* "$RUN"/nginx/*.log >&2 2>/dev/null
	return 1
}

# wait_ready URL: until the server answers anything but a connection error
# (keycard-fcgi may still be starting behind it).
wait_ready() {
	local i code
	for i in $(seq 1 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null)
		case $code in 000 | 502 | 503) sleep 0.05 ;; *) return 0 ;; esac
	done
	return 0
}

# req [CURL ARGS...] URL: one request; status in $STATUS, headers in $RUN/h,
# body in $RUN/b, WWW-Authenticate (all of them, joined) in $WWWA.
req() {
	STATUS=$(curl -sS --path-as-is --max-time "${REQ_TIMEOUT:-10}" -D "$RUN/h" -o "$RUN/b" \
		-w '%{http_code}' "$@" 2>"$RUN/curl.err")
	tr -d '\r' <"$RUN/h" >"$RUN/h.txt"
	WWWA=$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' "$RUN/h.txt" | paste -sd '|' -)
}

bearer() { printf 'Authorization: Bearer %s' "$1"; }

# case_status NAME WANT-STATUS WANT-WWW-AUTHENTICATE-REGEX|"" [CURL ARGS...] URL
#   WANT-STATUS is a regex over the whole status ("400|403"); "" for the
#   WWW-Authenticate regex means: no WWW-Authenticate header at all.
case_status() {
	local name=$1 want=$2 re=$3
	shift 3
	req "$@"
	if ! printf '%s\n' "$STATUS" | grep -Eqx -- "$want"; then
		fail "$name" "status $STATUS, want $want; body: $(head -c 300 "$RUN/b" | tr '\n' ' ')"
	elif [ -z "$re" ] && [ -n "$WWWA" ]; then
		fail "$name" "unexpected WWW-Authenticate: $WWWA"
	elif [ -n "$re" ] && ! printf '%s\n' "$WWWA" | grep -Eq -- "$re"; then
		fail "$name" "WWW-Authenticate '$WWWA' does not match /$re/"
	else
		pass "$name ($STATUS${WWWA:+, $WWWA})"
	fi
}

# body_has NAME REGEX / body_lacks NAME REGEX: on the last response's body.
body_has() {
	if grep -Eq -- "$2" "$RUN/b"; then pass "$1"; else
		fail "$1" "body lacks /$2/: $(head -c 400 "$RUN/b" | tr '\n' ' ')"
	fi
}
body_lacks() {
	if grep -Eq -- "$2" "$RUN/b"; then
		fail "$1" "body has /$2/: $(grep -E -- "$2" "$RUN/b" | head -3 | tr '\n' ' ')"
	else pass "$1"; fi
}

# The rows of ARCHITECTURE.md's status table that every mode must honour,
# against the demo API under $BASE. $1 = "keycard" when keycard's answer
# reaches the client unchanged; "nginx-auth" for nginx's auth_request (it
# passes only 401 and 403 on: a 400 must still be a refusal, 400 from nginx
# itself or 403, without a challenge, and no route is a 403); "nginx" and
# "apache" where the server refuses some requests itself before keycard sees
# them (nginx: two Authorization headers, 400 without a challenge; Apache:
# %2F and %00 in the path, 404): still refused, never with a challenge.
status_table_cases() {
	local mode=$1 bad400=400 inv='error="invalid_request"' inv2='error="invalid_request"'
	local badpath=400 notfound=404
	case $mode in
	nginx-auth) bad400='400|403' inv='^$|error="invalid_request"' inv2=$inv notfound=403 ;;
	nginx) inv2='^$|error="invalid_request"' ;;
	apache) badpath='400|404' ;;
	esac
	case_status "allow: token may read device 123" 200 "" \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123"
	body_has "the app saw the subject" 'hello alice'
	case_status "401 without a token" 401 '^Bearer realm="demo"$' "$BASE/api/devices/123"
	case_status "401 expired token" 401 'error="invalid_token"' \
		-H "$(bearer "$TOK_EXPIRED")" "$BASE/api/devices/123"
	case_status "401 token signed by an unknown key" 401 'error="invalid_token"' \
		-H "$(bearer "$TOK_BADSIG")" "$BASE/api/devices/123"
	case_status "403 insufficient_scope with the scope hint" 403 \
		'error="insufficient_scope".*scope="r:devices:777"' \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/777"
	case_status "403 device readable but not commandable" 403 \
		'error="insufficient_scope".*scope="x:devices:555"' \
		-X POST -d 'on' -H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/555/commands"
	case_status "403 by a deny rule (kiosk sends a command)" 403 "" \
		-X POST -d 'on' -H "$(bearer "$TOK_KIOSK")" "$BASE/api/devices/123/commands"
	case_status "allow: command on device 123" 200 "" \
		-X POST -d 'on' -H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123/commands"
	case_status "400 malformed Authorization" "$bad400" "$inv" \
		-H "Authorization: Bearer a b c" "$BASE/api/devices/123"
	# Two Authorization headers: the server joins them (or refuses itself).
	case_status "400 two credentials" "$bad400" "$inv2" \
		-H "$(bearer "$TOK_ALICE")" -H "$(bearer "$TOK_KIOSK")" "$BASE/api/devices/123"
	# Paths that cannot be normalized: the server may refuse them itself
	# (also 400) or hand them on; either way never allowed, never a challenge.
	case_status "400 encoded slash in the path" "$badpath|$bad400" "" \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123%2F..%2F777"
	case_status "400 NUL in the path" "$badpath|$bad400" "" \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123%00"
	case_status "$notfound no route (default status)" $notfound "" \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/nothing-here"
	req "$BASE/api/devices/123"
	if [ "$(wc -c <"$RUN/b")" -lt 8192 ]; then
		pass "refusal body under 8 KiB"
	else
		fail "refusal body under 8 KiB" "$(wc -c <"$RUN/b") bytes"
	fi
	req -H "$(bearer "$TOK_EXPIRED")" "$BASE/api/devices/123"
	if grep -qF "$TOK_EXPIRED" "$RUN/b" "$RUN/h.txt"; then
		fail "the refusal never repeats the token"
	else
		pass "the refusal never repeats the token"
	fi
}

# identity_cases MODE: the environment the CGI program sees through $BASE,
# with forged identity headers sent. MODE "gateway": keycard builds the
# environment, so every forged header, Proxy and Authorization must be gone.
# MODE "authorizer": the server builds it from the client's headers (keycard
# only adds Variable-*) and its keycard-strip.lua removes the same headers
# after keycard allowed: the same checks.
identity_cases() {
	local lang
	req -H "$(bearer "$TOK_ALICE")" -H 'X-Keycard-Subject: mallory' \
		-H 'X-Keycard-Scopes: admin' -H 'X_Keycard_Role: admin' \
		-H 'Remote-User: mallory' -H 'Auth-Type: Basic' -H 'X-Demo_User: mallory' \
		-H 'Proxy: http://evil.example:3128' -H 'Keycard-Rule: forged' \
		-H 'X-Demo-User: mallory' \
		"$BASE/cgi-bin/env.sh"
	if [ "$STATUS" != 200 ]; then
		fail "env.sh with forged headers" "status $STATUS"
		return
	fi
	if ! grep -q '^GATEWAY_INTERFACE=CGI/1.1$' "$RUN/b"; then
		fail "env.sh ran and printed its environment" "$(head -c 200 "$RUN/b")"
		return
	fi
	body_has "REMOTE_USER is the token's subject" '^REMOTE_USER=alice$'
	body_has "AUTH_TYPE=Bearer" '^AUTH_TYPE=Bearer$'
	body_has "KEYCARD_SUBJECT" '^KEYCARD_SUBJECT=alice$'
	body_has "KEYCARD_ISSUER" "^KEYCARD_ISSUER=$ISS\$"
	body_has "KEYCARD_CLIENT_ID" '^KEYCARD_CLIENT_ID=demo-mobile$'
	body_has "KEYCARD_CLIENT_NAME" '^KEYCARD_CLIENT_NAME=Demo mobile app$'
	body_has "KEYCARD_SCOPES" '^KEYCARD_SCOPES=r:devices:123 r:devices:555 x:devices:123$'
	body_has "KEYCARD_RULE is the allow rule's label" '^KEYCARD_RULE=env$'
	body_has "policy export KEYCARD_TENANT" '^KEYCARD_TENANT=acme$'
	body_lacks "no identity variable carries a forged value" \
		'^(REMOTE_USER|AUTH_TYPE|KEYCARD_[A-Z_]*)=.*(mallory|admin|forged|Basic)'
	body_lacks "no Proxy header (httpoxy)" '^HTTP_PROXY='
	body_lacks "no forged X-Keycard-* header" '^HTTP_X_KEYCARD_'
	body_lacks "no Authorization (token not passed on)" '^HTTP_AUTHORIZATION='
	if [ "$1" = authorizer ]; then
		body_has "the strip marker from keycard's authorizer answer" '^KEYCARD_DECISION=allow$'
	fi
	if [ "${E2E_NO_HEADER_EXPORT:-0}" = 1 ]; then
		: # the server, not keycard, builds the environment (nginx + fcgiwrap)
	elif [ "$(grep -c '^HTTP_X_DEMO_USER=' "$RUN/b")" = 1 ] &&
		grep -qx 'HTTP_X_DEMO_USER=alice' "$RUN/b"; then
		pass "an export named like a client header replaces it (HTTP_X_DEMO_USER)"
	else
		fail "an export named like a client header replaces it" \
			"$(grep '^HTTP_X_DEMO_USER' "$RUN/b" | tr '\n' ' ')"
	fi
	for lang in sh pl py; do
		req -H "$(bearer "$TOK_ALICE")" -H 'X-Keycard-Subject: mallory' "$BASE/cgi-bin/whoami.$lang"
		if [ "$STATUS" = 200 ] && grep -qx 'REMOTE_USER=alice' "$RUN/b" &&
			grep -qx 'KEYCARD_RULE=whoami' "$RUN/b"; then
			pass "whoami.$lang sees alice"
		else
			fail "whoami.$lang sees alice" "status $STATUS: $(head -c 300 "$RUN/b" | tr '\n' ' ')"
		fi
	done
}

# big_post_case: 10 MB through $BASE/cgi-bin/echo.sh comes back intact.
big_post_case() {
	head -c $((10 * 1024 * 1024)) /dev/urandom >"$RUN/big.bin"
	REQ_TIMEOUT=60 req -H "$(bearer "$TOK_ALICE")" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$RUN/big.bin" "$BASE/cgi-bin/echo.sh"
	if [ "$STATUS" = 200 ] && cmp -s "$RUN/big.bin" "$RUN/b"; then
		pass "10 MB POST echoed intact"
	else
		fail "10 MB POST echoed intact" "status $STATUS, $(wc -c <"$RUN/b") bytes back"
	fi
	rm -f "$RUN/big.bin"
}

# big_post_sum_case: 10 MB to $BASE/cgi-bin/bodysum.sh arrives intact (its
# length and SHA-256 come back). Used where the server does not keep sending
# the body once the program has started answering: Apache mod_cgid writes the
# whole body before reading. (nginx 1.22 does not read a FastCGI answer until
# it has sent the body: keycard-fcgi holds the script's output back until
# the body is in, so the echo works through nginx too.)
big_post_sum_case() {
	local want
	head -c $((10 * 1024 * 1024)) /dev/urandom >"$RUN/big.bin"
	want="$(wc -c <"$RUN/big.bin" | tr -d ' ') $(sha256sum <"$RUN/big.bin" | cut -d' ' -f1)"
	REQ_TIMEOUT=60 req -H "$(bearer "$TOK_ALICE")" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$RUN/big.bin" "$BASE/cgi-bin/bodysum.sh"
	if [ "$STATUS" = 200 ] && [ "$(cat "$RUN/b")" = "$want" ]; then
		pass "10 MB POST arrived intact (length and SHA-256)"
	else
		fail "10 MB POST arrived intact" "status $STATUS, got '$(head -c 100 "$RUN/b")', want '$want'"
	fi
	rm -f "$RUN/big.bin"
}

# unavailable_case: keycard's own failure (here: the issuer's key file is
# gone, so the policy does not load) is 503 with Retry-After and no
# challenge, never a 401 that would send every client for a new token.
# Only where each request loads the policy (plain CGI); a FastCGI
# keycard-fcgi keeps its last good policy instead (reload_case).
unavailable_case() {
	local keys=$RUN/policy/keys/demo.jwks
	mv "$keys" "$keys.away"
	req -H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123"
	mv "$keys.away" "$keys"
	if [ "$STATUS" = 503 ] && [ -z "$WWWA" ] && grep -qi '^Retry-After: [0-9]' "$RUN/h.txt"; then
		pass "503 + Retry-After, no challenge, when keycard cannot work"
	else
		fail "503 + Retry-After, no challenge, when keycard cannot work" \
			"status $STATUS, WWW-Authenticate '$WWWA', $(grep -ci '^Retry-After' "$RUN/h.txt") Retry-After"
	fi
	case_status "... and allowed again once the keys are back" 200 "" \
		-H "$(bearer "$TOK_ALICE")" "$BASE/api/devices/123"
}

# slow_case WANT: a script that outlives the timeout; WANT is the status
# (504 from keycard's gateway, or the server's own when it runs the script).
slow_case() {
	local t0 t1
	t0=$(date +%s)
	REQ_TIMEOUT=15 req -H "$(bearer "$TOK_ALICE")" "$BASE/cgi-bin/slow.sh?10"
	t1=$(date +%s)
	# Every timeout in the examples is 2-3 s; a loaded machine may take
	# longer to act on it, but the 10 s script must not finish first.
	if [ "$STATUS" = "$1" ] && [ $((t1 - t0)) -lt 9 ]; then
		pass "slow script stopped: $STATUS after $((t1 - t0)) s"
	else
		fail "slow script stopped" "status $STATUS after $((t1 - t0)) s, want $1"
	fi
}

# run_as_user: the command prefix that runs a program as $RUN_USER with the
# same PID (setpriv execs), empty when not root.
run_as_user() {
	RUN_AS=()
	if [ "$(id -u)" -eq 0 ]; then
		RUN_AS=(setpriv --reuid "$RUN_USER" --regid "$RUN_GROUP" --init-groups)
	fi
}

# start_keycard_tcp [ARGS...]: keycard-fcgi on 127.0.0.1:$FCGI_PORT (a free
# port it picks) as $RUN_USER, its log in $RUN/logs/keycard.log.
start_keycard_tcp() {
	FCGI_PORT=$(free_port)
	run_as_user
	start_bg "$RUN/logs/keycard.log" "${RUN_AS[@]+"${RUN_AS[@]}"}" \
		"$KC_FCGI" -c "$CONFIG" --threads 4 --listen "127.0.0.1:$FCGI_PORT" "$@"
	KC_PID=$BG_PID
	wait_port "$FCGI_PORT" "$KC_PID" || exit 99
}

# start_keycard_unix [ARGS...]: the same on the unix socket $RUN/keycard.sock.
start_keycard_unix() {
	run_as_user
	start_bg "$RUN/logs/keycard.log" "${RUN_AS[@]+"${RUN_AS[@]}"}" \
		"$KC_FCGI" -c "$CONFIG" --threads 4 --listen "unix:$RUN/keycard.sock" "$@"
	KC_PID=$BG_PID
	wait_socket "$RUN/keycard.sock" "$KC_PID" || exit 99
}

# wait_socket PATH [PID]: until the unix socket PATH exists (5 s).
wait_socket() {
	local i
	for i in $(seq 1 100); do
		[ -S "$1" ] && return 0
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then break; fi
		sleep 0.05
	done
	echo "socket $1 did not appear; logs:" >&2
	tail -n 20 "$RUN"/logs/* >&2 2>/dev/null
	return 1
}

# start_apache TEMPLATE: renders and starts Apache httpd in the foreground
# with its own ServerRoot in $RUN; sets $BASE and $SERVER_PID.
start_apache() {
	APACHE_MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}
	PORT=$(free_port)
	render "$1" "$RUN/httpd.conf"
	"$(prog_path apache2)" -t -f "$RUN/httpd.conf" >"$RUN/check.log" 2>&1 ||
		{ cat "$RUN/check.log" >&2; echo "apache2 rejected the config" >&2; exit 99; }
	start_bg "$RUN/server.log" "$(prog_path apache2)" -f "$RUN/httpd.conf" -DFOREGROUND
	SERVER_PID=$BG_PID
	wait_port "$PORT" "$SERVER_PID" || exit 99
	BASE=http://127.0.0.1:$PORT
}

# start_nginx TEMPLATE: the same for nginx (its prefix is $RUN/nginx).
start_nginx() {
	PORT=$(free_port)
	mkdir -p "$RUN/nginx"
	render "$1" "$RUN/nginx/nginx.conf"
	"$(prog_path nginx)" -t -q -p "$RUN/nginx" -e "$RUN/nginx/error.log" \
		-c "$RUN/nginx/nginx.conf" >"$RUN/check.log" 2>&1 ||
		{ cat "$RUN/check.log" >&2; echo "nginx rejected the config" >&2; exit 99; }
	start_bg "$RUN/server.log" "$(prog_path nginx)" -p "$RUN/nginx" \
		-e "$RUN/nginx/error.log" -c "$RUN/nginx/nginx.conf"
	SERVER_PID=$BG_PID
	wait_port "$PORT" "$SERVER_PID" || exit 99
	BASE=http://127.0.0.1:$PORT
}

# log_cases FILE: keycard's decision log names the subject, never the token.
log_cases() {
	if ! grep -q 'alice' "$1" 2>/dev/null; then
		fail "decisions are logged" "no line naming alice in $1"
	elif grep -qF "$TOK_ALICE" "$1"; then
		fail "the decision log never contains a token"
	else
		pass "decisions logged, without the token"
	fi
}

# reload_case: SIGHUP to keycard-fcgi ($KC_PID) while 4 clients keep
# requesting $BASE/cgi-bin/whoami.sh: no request fails, the new policy (the
# rule renamed "whoami-v2") takes over, and a broken policy sent next with
# another SIGHUP is refused while the last good one keeps serving.
reload_case() {
	local f=$RUN/policy/resources/e2e.kc i n bad loaders=()
	load_loop() { # load_loop OUT SECONDS
		local end=$((SECONDS + $2))
		while [ $SECONDS -lt $end ]; do
			curl -s --max-time 10 -H "$(bearer "$TOK_ALICE")" -w ' %{http_code}\n' \
				"$BASE/cgi-bin/whoami.sh" | sed -n 's/^KEYCARD_RULE=//p; /^ [0-9][0-9][0-9]$/p' |
				tr -d '\n'
			echo
		done >"$1"
	}
	for i in 1 2 3 4; do
		load_loop "$RUN/load.$i" 4 &
		loaders+=($!)
	done
	sleep 1
	sed 's/allow as "whoami"/allow as "whoami-v2"/' "$f" >"$f.new" && mv "$f.new" "$f"
	kill -HUP "$KC_PID"
	sleep 1.5
	# a broken policy: keycard keeps the last good one
	printf 'resource broken {\n' >"$RUN/policy/resources/zz-broken.kc"
	kill -HUP "$KC_PID"
	wait "${loaders[@]}"
	cat "$RUN"/load.[0-9] >"$RUN/load.all"
	n=$(wc -l <"$RUN/load.all")
	bad=$(grep -cv '^whoami\(-v2\)\{0,1\} 200$' "$RUN/load.all")
	if [ "$n" -gt 20 ] && [ "$bad" -eq 0 ]; then
		pass "reload under load: $n requests, none failed"
	else
		fail "reload under load: no request lost" "$bad of $n bad: $(grep -v '^whoami\(-v2\)\{0,1\} 200$' "$RUN/load.all" | sort | uniq -c | head -3 | tr '\n' ' ')"
	fi
	if grep -q '^whoami 200$' "$RUN/load.all" && grep -q '^whoami-v2 200$' "$RUN/load.all"; then
		pass "reload switched policy (whoami -> whoami-v2)"
	else
		fail "reload switched policy" "$(sort "$RUN/load.all" | uniq -c | tr '\n' ' ')"
	fi
	if ! kill -0 "$KC_PID" 2>/dev/null; then
		fail "a broken policy on reload keeps the last good one" "keycard-fcgi exited"
		return
	fi
	req -H "$(bearer "$TOK_ALICE")" "$BASE/cgi-bin/whoami.sh"
	if [ "$STATUS" = 200 ] && grep -qx 'KEYCARD_RULE=whoami-v2' "$RUN/b"; then
		pass "a broken policy on reload keeps the last good one"
	else
		fail "a broken policy on reload keeps the last good one" "status $STATUS: $(head -c 200 "$RUN/b")"
	fi
	rm -f "$RUN/policy/resources/zz-broken.kc"
}

# finish: the summary line and the exit status.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

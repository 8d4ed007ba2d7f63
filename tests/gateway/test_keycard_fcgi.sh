#!/bin/bash
# test_keycard_fcgi.sh: guards keycard-fcgi as a program, without a web
# server: the command line (keycard-fcgi(8)), plain CGI mode as Apache's
# Action runs it (the environment a server gives a CGI, the script being
# PATH_TRANSLATED), and FastCGI on an inherited socket (fd 0, as spawn-fcgi
# and lighttpd's bin-path give it) spoken to by tests/gateway/fcgi_client.py:
# the authorizer role, the nginx authorize mode, the gateway with a 1 MiB
# body, SIGHUP reload (switch, and keep the last good policy), the log line
# (never the token). Keys and tokens are made at test time with
# `keycard keygen` and `keycard mint`; the policy is tests/data/fcgi/main.kc.
#
# Environment: KEYCARD, KC_BUILDDIR (for keycard-fcgi), KC_TEST_DATA,
# KC_SRCDIR, PYTHON3 (the FastCGI part is skipped without python3).
set -u

KEYCARD=${KEYCARD:-./keycard}
BUILD=${KC_BUILDDIR:-.}
FCGI=${KEYCARD_FCGI:-$BUILD/keycard-fcgi}
DATA=${KC_TEST_DATA:-tests/data}
SRC=${KC_SRCDIR:-.}
PY=${PYTHON3:-}
[ -n "$PY" ] || PY=$(command -v python3 || true)
CLIENT="$SRC/tests/gateway/fcgi_client.py"

for b in "$KEYCARD" "$FCGI"; do
	if [ ! -x "$b" ]; then
		echo "binary not found: $b" >&2
		exit 99
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-test-fcgi.XXXXXX") || exit 99
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1${2:+ -- $2}"; }
# has FILE TEXT: FILE contains the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }
# check NAME CONDITION...: runs the condition, reports.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "$(head -c 600 "$tmp/out" | tr '\r' ' ')"; fi
}
first_line_is() { [ "$(head -n 1 "$tmp/out" | tr -d '\r')" = "$1" ]; }

# ---- fixtures: policy, keys, tokens, scripts
cp "$DATA/fcgi/main.kc" "$tmp/main.kc"
"$KEYCARD" keygen --alg ES256 --kid t1 --public "$tmp/keys.jwks" >"$tmp/priv.jwk" || exit 99
mint() { "$KEYCARD" mint --key "$tmp/priv.jwk" --iss https://issuer.test/ --aud api --sub alice \
	--claim client_id=c1 "$@"; }
good=$(mint --scope "r:devices:7") || exit 99
expired=$(mint --scope "r:devices:7" --now $(($(date +%s) - 7200)) --ttl 1h) || exit 99
mkdir -p "$tmp/cgi"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv | LC_ALL=C sort\n' >"$tmp/cgi/env.sh"
printf '#!/bin/sh\nprintf "Content-Type: application/octet-stream\\r\\n\\r\\n"\nexec cat\n' >"$tmp/cgi/cat.sh"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nran\\n"\n' >"$tmp/outside.sh"
printf '#!/bin/sh\necho oops >&2\nexit 3\n' >"$tmp/cgi/fail.sh"
chmod +x "$tmp/cgi/env.sh" "$tmp/cgi/cat.sh" "$tmp/cgi/fail.sh" "$tmp/outside.sh"

# ---- the command line
"$FCGI" --check -c "$tmp/main.kc" >"$tmp/out" 2>&1
check "--check: a good policy exits 0" [ $? -eq 0 ]
printf 'keycard 1;\nresource r { route GET /x { alow; } }\n' >"$tmp/bad.kc"
"$FCGI" --check -c "$tmp/bad.kc" >"$tmp/out" 2>&1
rc=$?
check "--check: a broken policy exits 1 with its diagnostics" [ $rc -eq 1 ]
check "--check: the diagnostic names file:line:col" has "$tmp/out" "bad.kc:2:"
KEYCARD_CONFIG="$tmp/main.kc" "$FCGI" --check >"$tmp/out" 2>&1
check "--check: the config comes from KEYCARD_CONFIG" [ $? -eq 0 ]
"$FCGI" --threads 0 >"$tmp/out" 2>&1
check "usage: --threads 0 exits 2" [ $? -eq 2 ]
"$FCGI" --bogus >"$tmp/out" 2>&1
check "usage: an unknown option exits 2" [ $? -eq 2 ]
"$FCGI" --help >"$tmp/out" 2>&1
check "--help exits 0 and names the options" has "$tmp/out" "--cgi-root"

# ---- plain CGI (Apache Action): one request from the environment
# cgi [VAR=value]...: runs keycard-fcgi as a CGI with a server's environment.
cgi() {
	env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
		REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=GET KEYCARD_CONFIG="$tmp/main.kc" \
		KEYCARD_CGI_ROOT="$tmp/cgi" PATH_TRANSLATED="$tmp/cgi/env.sh" "$@" \
		"$FCGI" <"${CGI_STDIN:-/dev/null}" >"$tmp/out" 2>"$tmp/err"
}
cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $good" HTTP_X_KEYCARD_SUBJECT=mallory \
	HTTP_X_AUDIT=forged HTTP_PROXY=http://evil.test/ REMOTE_USER=basic AUTH_TYPE=Basic
check "cgi: allowed request runs PATH_TRANSLATED" has "$tmp/out" "SCRIPT_FILENAME=$tmp/cgi/env.sh"
check "cgi: REMOTE_USER is the token's subject" has "$tmp/out" "REMOTE_USER=alice"
check "cgi: AUTH_TYPE is Bearer" has "$tmp/out" "AUTH_TYPE=Bearer"
check "cgi: the policy's header export replaces the client's" has "$tmp/out" "HTTP_X_AUDIT=alice"
check "cgi: identity exports are set" has "$tmp/out" "KEYCARD_SCOPES=r:devices:7"
check "cgi: no forged X-Keycard-*" lacks "$tmp/out" "mallory"
check "cgi: no client-sent X-Audit" lacks "$tmp/out" "forged"
check "cgi: no Proxy (httpoxy)" lacks "$tmp/out" "HTTP_PROXY"
check "cgi: no Authorization by default" lacks "$tmp/out" "HTTP_AUTHORIZATION"
check "cgi: the keycard settings stay with keycard" lacks "$tmp/out" "KEYCARD_CONFIG"
check "cgi: one decision line on stderr" [ "$(grep -c '^keycard: time=' "$tmp/err")" -eq 1 ]
check "cgi: the log line has the decision" has "$tmp/err" "status=200 decision=allow rule=read sub=alice client_id=c1"
check "cgi: the log line never holds the token" lacks "$tmp/err" "$good"

cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $good" KEYCARD_LOG_FORMAT=json
if [ -n "$PY" ]; then
	check "cgi: KEYCARD_LOG_FORMAT=json writes the decision as one JSON object" "$PY" -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["status"] == 200 and d["decision"] == "allow" and d["sub"] == "alice", d
assert len(d["token"]) == 12, d
' "$tmp/err"
fi
check "cgi: ... and never the token" lacks "$tmp/err" "$good"
"$FCGI" --log-format xml >"$tmp/out" 2>&1
check "usage: --log-format wants kv or json (exit 2)" [ $? -eq 2 ]

# RFC 3875 §4.4: Apache turns a query without '=' into command-line words.
cgi_argv() {
	env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
		REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=GET KEYCARD_CONFIG="$tmp/main.kc" \
		KEYCARD_CGI_ROOT="$tmp/cgi" PATH_TRANSLATED="$tmp/cgi/env.sh" \
		REQUEST_URI="/devices/7?$*" QUERY_STRING="$*" HTTP_AUTHORIZATION="Bearer $good" \
		"$FCGI" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
}
cgi_argv --pass-authorization
check "cgi: query words on the command line are not options (the script ran)" \
	has "$tmp/out" "REMOTE_USER=alice"
check "cgi: ... so ?--pass-authorization does not hand the token on" \
	lacks "$tmp/out" "HTTP_AUTHORIZATION"
cgi_argv -c /nonexistent
check "cgi: ... and ?-c+FILE does not pick the policy" has "$tmp/out" "REMOTE_USER=alice"

cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $good" KEYCARD_PASS_AUTHORIZATION=1
check "cgi: KEYCARD_PASS_AUTHORIZATION=1 passes the token on" has "$tmp/out" "HTTP_AUTHORIZATION=Bearer $good"

cgi REQUEST_URI=/devices/7
check "cgi: no token is 401" first_line_is "Status: 401 Unauthorized"
check "cgi: ... with a bare challenge" has "$tmp/out" 'WWW-Authenticate: Bearer realm="fcgi-test"'
check "cgi: ... and the script did not run" lacks "$tmp/out" "SCRIPT_FILENAME"

cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $expired"
check "cgi: an expired token is 401 invalid_token" has "$tmp/out" 'error="invalid_token"'
check "cgi: ... and the log says why" has "$tmp/err" "decision=deny_token"

cgi REQUEST_URI=/devices/8 HTTP_AUTHORIZATION="Bearer $good"
check "cgi: another device is 403" first_line_is "Status: 403 Forbidden"
check "cgi: ... insufficient_scope with the scope hint" \
	has "$tmp/out" 'error="insufficient_scope", scope="r:devices:8"'

many=()
for i in $(seq 129); do many+=("HTTP_X_H$i=v"); done
cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $good" "${many[@]}"
check "cgi: more than 128 headers is 431, never a cut list" \
	first_line_is "Status: 431 Request Header Fields Too Large"
check "cgi: ... and the script did not run" lacks "$tmp/out" "SCRIPT_FILENAME"
cgi REQUEST_URI=/devices/7 HTTP_AUTHORIZATION="Bearer $good" "${many[@]:2}"
check "cgi: 128 headers (127 and Authorization) are read" has "$tmp/out" "REMOTE_USER=alice"

cgi REQUEST_URI=/public/x PATH_TRANSLATED="$tmp/outside.sh"
check "cgi: a script outside the CGI roots does not run" first_line_is "Status: 403 Forbidden"
check "cgi: ... really not" lacks "$tmp/out" "ran"

cgi REQUEST_URI=/public/x PATH_TRANSLATED= SCRIPT_FILENAME="$tmp/cgi/env.sh"
check "cgi: without PATH_TRANSLATED nothing runs (500)" first_line_is "Status: 500 Internal Server Error"

head -c 1048576 /dev/urandom >"$tmp/body"
CGI_STDIN="$tmp/body" cgi REQUEST_METHOD=POST REQUEST_URI=/devices/7 CONTENT_LENGTH=1048576 \
	CONTENT_TYPE=application/octet-stream HTTP_AUTHORIZATION="Bearer $good" \
	PATH_TRANSLATED="$tmp/cgi/cat.sh"
sed '1,/^\r$/d' "$tmp/out" >"$tmp/echoed"
check "cgi: a 1 MiB POST body reaches the script intact" cmp -s "$tmp/body" "$tmp/echoed"

# A client that stops sending its body: the script is stopped at the timeout.
mkfifo "$tmp/slow.fifo"
(printf 'power=on' >&3; sleep 2) 3>"$tmp/slow.fifo" &
slow_writer=$!
CGI_STDIN="$tmp/slow.fifo" cgi REQUEST_METHOD=POST REQUEST_URI=/devices/7 CONTENT_LENGTH=100000 \
	HTTP_AUTHORIZATION="Bearer $good" PATH_TRANSLATED="$tmp/cgi/cat.sh" KEYCARD_CGI_TIMEOUT=300
wait "$slow_writer"
check "cgi: a stalled request body is 504 at KEYCARD_CGI_TIMEOUT" \
	first_line_is "Status: 504 Gateway Timeout"

cgi REQUEST_URI=/devices/7 KEYCARD_CONFIG="$tmp/bad.kc"
rc=$?
check "cgi: a policy that does not load is 503, never 401" first_line_is "Status: 503 Service Unavailable"
check "cgi: ... and exit 1" [ $rc -eq 1 ]

# ---- FastCGI on an inherited socket
skipped=
if [ -z "$PY" ]; then
	echo "SKIP: the FastCGI part needs python3"
	skipped=1
else
	sock="$tmp/fcgi.sock"
	"$PY" "$CLIENT" --spawn "$sock" "$FCGI" -c "$tmp/main.kc" --threads 3 \
		--cgi-root "$tmp/cgi" --cgi-timeout 5000 2>"$tmp/server.err" &
	server_pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	# fcgi ROLE PATH [NAME=value]...
	fcgi() {
		local role=$1 path=$2
		shift 2
		"$PY" "$CLIENT" "$sock" "$role" REQUEST_METHOD=GET REQUEST_URI="$path" \
			REMOTE_ADDR=127.0.0.1 "$@" <"${FCGI_STDIN:-/dev/null}" >"$tmp/out" 2>"$tmp/err"
	}
	fcgi authorizer /devices/7 HTTP_AUTHORIZATION="Bearer $good"
	check "fcgi: authorizer allow is Status 200 first" first_line_is "Status: 200 OK"
	check "fcgi: ... with Variable-REMOTE_USER" has "$tmp/out" "Variable-REMOTE_USER: alice"
	check "fcgi: ... and Variable-AUTH_TYPE" has "$tmp/out" "Variable-AUTH_TYPE: Bearer"
	fcgi authorizer /devices/8 HTTP_AUTHORIZATION="Bearer $good"
	check "fcgi: authorizer refusal is 403 first" first_line_is "Status: 403 Forbidden"
	check "fcgi: ... no Variable-* on a refusal" lacks "$tmp/out" "Variable-"
	fcgi responder /nowhere KEYCARD_MODE=authorize
	check "fcgi: nginx authorize mode turns the 404 default into 403" first_line_is "Status: 403 Forbidden"
	fcgi responder /devices/7 KEYCARD_MODE=authorize
	check "fcgi: nginx authorize mode keeps 401" first_line_is "Status: 401 Unauthorized"
	fcgi responder 'http:/x' KEYCARD_MODE=authorize
	check "fcgi: nginx authorize mode: an unreadable request is 403, not a 400 nginx makes 500" \
		first_line_is "Status: 403 Forbidden"
	fcgi responder /devices/7 SCRIPT_FILENAME="$tmp/cgi/env.sh" HTTP_AUTHORIZATION="Bearer $good" \
		HTTP_X_KEYCARD_RULE=forged
	check "fcgi: gateway runs the script with the identity" has "$tmp/out" "KEYCARD_RULE=read"
	check "fcgi: ... and without the forged header" lacks "$tmp/out" "forged"
	fcgi responder /public/x SCRIPT_FILENAME="$tmp/cgi/fail.sh"
	check "fcgi: a failing script is 502" first_line_is "Status: 502 Bad Gateway"
	check "fcgi: ... its stderr goes to the server's error stream" has "$tmp/err" "keycard: script: oops"
	FCGI_STDIN="$tmp/body" fcgi responder /devices/7 REQUEST_METHOD=POST CONTENT_LENGTH=1048576 \
		SCRIPT_FILENAME="$tmp/cgi/cat.sh" HTTP_AUTHORIZATION="Bearer $good"
	sed '1,/^\r$/d' "$tmp/out" >"$tmp/echoed"
	check "fcgi: a 1 MiB body through the gateway arrives intact" cmp -s "$tmp/body" "$tmp/echoed"
	for _ in 1 2 3 4 5 6; do
		fcgi authorizer /devices/7 HTTP_AUTHORIZATION="Bearer $good" &
	done
	wait $(jobs -p | grep -v "^$server_pid$") 2>/dev/null
	fcgi authorizer /devices/7 HTTP_AUTHORIZATION="Bearer $good"
	check "fcgi: the token cache answers repeats" grep -q "cache=hit" "$tmp/server.err"
	h=$(printf %s "$good" | sha256sum | cut -c1-12)
	check "fcgi: ... and a hit logs the same token hash as the miss (SHA-256, 12 hex)" \
		grep -q "token=$h latency_us=[0-9]* cache=hit" "$tmp/server.err"
	check "fcgi: ... (the miss)" grep -q "token=$h latency_us=[0-9]* cache=miss" "$tmp/server.err"

	# A reload while requests run loses none of them.
	pids=
	for i in $(seq 24); do
		"$PY" "$CLIENT" "$sock" authorizer REQUEST_METHOD=GET REQUEST_URI=/devices/7 \
			HTTP_AUTHORIZATION="Bearer $good" </dev/null >"$tmp/load.$i" 2>/dev/null &
		pids="$pids $!"
		[ "$i" = 12 ] && kill -HUP "$server_pid"
	done
	wait $pids
	ok=0
	for i in $(seq 24); do
		[ "$(head -n 1 "$tmp/load.$i" | tr -d '\r')" = "Status: 200 OK" ] && ok=$((ok + 1))
	done
	check "fcgi: 24 requests around a SIGHUP all succeed" [ "$ok" -eq 24 ]
	for _ in $(seq 100); do grep -q "reloaded" "$tmp/server.err" && break; sleep 0.05; done
	check "fcgi: the SIGHUP reloaded the policy" has "$tmp/server.err" "reloaded"

	# SIGHUP: a broken file keeps the last good policy; a good one switches.
	cp "$tmp/bad.kc" "$tmp/main.kc"
	kill -HUP "$server_pid"
	for _ in $(seq 100); do grep -q "reload failed" "$tmp/server.err" && break; sleep 0.05; done
	check "fcgi: the broken policy's reload failed" has "$tmp/server.err" "reload failed"
	fcgi authorizer /public/x
	check "fcgi: after a failed reload the last good policy serves" first_line_is "Status: 200 OK"
	check "fcgi: ... and the failure is logged with its diagnostics" has "$tmp/server.err" "main.kc:2:"
	sed 's/mount \/public;/mount \/open;/' "$DATA/fcgi/main.kc" >"$tmp/main.kc"
	kill -HUP "$server_pid"
	for _ in $(seq 100); do [ "$(grep -c "reloaded" "$tmp/server.err")" -ge 2 ] && break; sleep 0.05; done
	fcgi authorizer /public/x
	check "fcgi: after SIGHUP the new policy decides" first_line_is "Status: 404 Not Found"
	fcgi authorizer /open/x
	check "fcgi: ... everywhere" first_line_is "Status: 200 OK"
	check "fcgi: the server log never holds a token" lacks "$tmp/server.err" "$good"
	kill -TERM "$server_pid"
	wait "$server_pid"
	rc=$?
	server_pid=
	check "fcgi: SIGTERM ends the server cleanly" [ $rc -eq 0 ]

	# --listen: keycard-fcgi opens the socket itself.
	sock="$tmp/listen.sock"
	"$FCGI" -c "$tmp/main.kc" --threads 1 --listen "unix:$sock" --cgi-root "$tmp/cgi" \
		--cgi-timeout 400 2>>"$tmp/server.err" &
	server_pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	fcgi authorizer /devices/7 HTTP_AUTHORIZATION="Bearer $good"
	check "fcgi: --listen unix:PATH serves" first_line_is "Status: 200 OK"
	# A client that stops sending its body holds the one worker no longer
	# than --cgi-timeout.
	printf 'power=on' >"$tmp/part"
	t0=$(date +%s%N)
	FCGI_TIMEOUT=5 FCGI_STALL=1 FCGI_STDIN="$tmp/part" fcgi responder /devices/7 REQUEST_METHOD=POST \
		CONTENT_LENGTH=100000 SCRIPT_FILENAME="$tmp/cgi/cat.sh" HTTP_AUTHORIZATION="Bearer $good"
	took=$((($(date +%s%N) - t0) / 1000000))
	check "fcgi: a stalled request body is 504 after --cgi-timeout" \
		first_line_is "Status: 504 Gateway Timeout"
	check "fcgi: ... in about 400 ms, not the client's time (${took} ms)" [ "$took" -lt 3000 ]
	fcgi authorizer /devices/7 HTTP_AUTHORIZATION="Bearer $good"
	check "fcgi: ... and the only worker serves the next request" first_line_is "Status: 200 OK"
	kill -TERM "$server_pid"
	wait "$server_pid"
	server_pid=
	# In the sanitizer build (`make unit-check` in CI), any report lands in the server's log.
	check "fcgi: no sanitizer report from the server" lacks "$tmp/server.err" "Sanitizer"
	check "fcgi: no undefined behaviour reported" lacks "$tmp/server.err" "runtime error"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
[ -z "$skipped" ] || exit 77   # a part was not run: say so to automake

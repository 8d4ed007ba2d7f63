#!/usr/bin/env bash
# The keycard demo: a legacy CGI program behind lighttpd, with keycard-fcgi
# as its FastCGI authorizer. Installs what it needs (Debian 12: lighttpd,
# curl and the build tools), builds keycard in _build/ (tests/run-all.sh
# --build-only), makes a demo key and tokens, starts lighttpd on 127.0.0.1,
# sends requests that are allowed and refused, printing each status and body,
# then stops what it started. Exit status 0 when every answer was as expected.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

case ${1:-} in
-h | --help)
	sed -n '2,7s/^# \{0,1\}//p' "$0"
	echo "usage: $0 [--no-build]   (--no-build: use keycard and keycard-fcgi already in _build/)"
	exit 0 ;;
--no-build) ;;
'') "$repo/tests/run-all.sh" --build-only ;;
*) echo "demo: unknown option '$1'" >&2; exit 2 ;;
esac

KEYCARD=${KEYCARD:-$repo/_build/keycard}
KEYCARD_FCGI=${KEYCARD_FCGI:-$repo/_build/keycard-fcgi}
for p in "$KEYCARD" "$KEYCARD_FCGI"; do
	[ -x "$p" ] || { echo "demo: $p not found (build first)" >&2; exit 2; }
done
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
for p in "$LIGHTTPD" "$(command -v curl || echo curl)"; do
	[ -x "$p" ] || { echo "demo: $p is not installed (tests/install-deps.sh installs it)" >&2; exit 2; }
done
# The example config strips forged identity headers with mod_magnet.
[ -e /usr/lib/lighttpd/mod_magnet.so ] || {
	echo "demo: lighttpd's mod_magnet is not installed (Debian: lighttpd-modules-lua;" \
		"tests/install-deps.sh installs it)" >&2
	exit 2
}

if [ -t 1 ]; then bold=$'\e[1m' green=$'\e[32m' red=$'\e[31m' off=$'\e[0m'
else bold='' green='' red='' off=''; fi
say() { printf '\n%s%s%s\n' "$bold" "$*" "$off"; }

# Everything lives in one temporary directory; lighttpd, started below, is
# the only process the demo starts (it starts and stops keycard-fcgi).
work=$(mktemp -d "${TMPDIR:-/tmp}/keycard-demo.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid"
		wait "$server_pid" 2>/dev/null || true
		echo "(stopped lighttpd, pid $server_pid)"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# lighttpd drops root privileges: it, keycard-fcgi and the CGI program then
# run as www-data, which must read (and create the socket in) $work.
if [ "$(id -u)" -eq 0 ]; then
	user=www-data
	id "$user" >/dev/null 2>&1 || user=nobody
	group=$(id -gn "$user")
else
	user=$(id -un) group=$(id -gn)
fi
mkdir -p "$work/bin" "$work/htdocs"
cp "$KEYCARD_FCGI" "$work/bin/keycard-fcgi"
cp -R "$repo/examples/cgi-bin" "$work/cgi-bin"
cp -R "$repo/examples/policy" "$work/policy"

say "1. A demo issuer key; keycard trusts its public half (policy/keys/demo.jwks)"
iss=https://id.demo.test/ aud=https://api.demo.test
"$KEYCARD" keygen --alg ES256 --kid demo-1 --public "$work/policy/keys/demo.jwks" >"$work/demo.jwk"
echo "  keycard keygen --alg ES256 --kid demo-1 --public policy/keys/demo.jwks > demo.jwk"
mint() { "$KEYCARD" mint --key "$work/demo.jwk" --iss "$iss" --aud "$aud" "$@"; }
alice=$(mint --sub alice --claim client_id=demo-mobile --claim tenant=acme \
	--scope "r:devices:123 r:devices:555 x:devices:123" --ttl 10m)
echo "  alice's token: scope \"r:devices:123 r:devices:555 x:devices:123\" (read 123 and 555, command 123)"
expired=$(mint --sub alice --claim client_id=demo-mobile --scope "r:devices:123" \
	--now $(($(date +%s) - 7200)) --ttl 1h)
echo "  an expired token: issued two hours ago for one hour"
"$KEYCARD" check "$work/policy/main.kc"

say "2. lighttpd on 127.0.0.1 with keycard-fcgi as its FastCGI authorizer"
port=
for _ in $(seq 1 100); do
	p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo: no free port" >&2; exit 1; }
sed -e "s|@PORT@|$port|g" -e "s|@ROOT@|$work|g" -e "s|@USER@|$user|g" \
	-e "s|@GROUP@|$group|g" -e "s|@KEYCARD_FCGI@|$work/bin/keycard-fcgi|g" \
	-e "s|@CONFIG@|$work/policy/main.kc|g" -e "s|@CGI_BIN@|$work/cgi-bin|g" \
	-e "s|@STRIP_LUA@|$work/keycard-strip.lua|g" \
	"$repo/examples/lighttpd/authorizer.conf.in" >"$work/lighttpd.conf"
cp "$repo/examples/lighttpd/keycard-strip.lua" "$work/keycard-strip.lua"
chmod -R a+rX "$work"
chmod 600 "$work/demo.jwk"
[ "$(id -u)" -ne 0 ] || chown "$user:$group" "$work"
"$LIGHTTPD" -tt -f "$work/lighttpd.conf"
"$LIGHTTPD" -D -f "$work/lighttpd.conf" </dev/null >>"$work/lighttpd.out" 2>&1 &
server_pid=$!
echo "  lighttpd -D -f lighttpd.conf   (pid $server_pid, port $port; config from examples/lighttpd/authorizer.conf.in)"
base=http://127.0.0.1:$port
for _ in $(seq 1 100); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "$base/api/devices/123" || true)
	case $code in 000 | 502 | 503) sleep 0.1 ;; *) break ;; esac
done

passed=0 failed=0
# show EXPECTED-STATUS DESCRIPTION CURL-ARGS...: one request, shown with its
# status, WWW-Authenticate and body.
show() {
	local want=$1 what=$2 status a
	shift 2
	say "$what"
	printf '  $ curl'
	for a in "$@"; do
		a=${a//$alice/\$ALICE}
		a=${a//$expired/\$EXPIRED}
		case $a in
		*'$'*) printf ' "%s"' "$a" ;;
		*[\ \"]*) printf " '%s'" "$a" ;;
		*) printf ' %s' "$a" ;;
		esac
	done
	printf '\n'
	status=$(curl -s -D "$work/h" -o "$work/b" -w '%{http_code}' "$@" || true)
	printf '  HTTP %s\n' "$status"
	grep -i '^WWW-Authenticate:' "$work/h" | tr -d '\r' | sed 's/^/  /' || true
	sed 's/^/  | /' "$work/b"
	if [ "$status" = "$want" ]; then
		printf '  %s→ %s, as expected%s\n' "$green" "$status" "$off"
		passed=$((passed + 1))
	else
		printf '  %s→ %s, expected %s%s\n' "$red" "$status" "$want" "$off"
		failed=$((failed + 1))
	fi
}

show 200 "3. alice reads device 123: allowed; the program sees who she is" \
	-H "Authorization: Bearer $alice" "$base/api/devices/123"
show 401 "4. no token: 401 and a challenge (no error code: just log in)" \
	"$base/api/devices/123"
show 401 "5. an expired token: 401 invalid_token (get a new token)" \
	-H "Authorization: Bearer $expired" "$base/api/devices/123"
show 403 "6. device 777 is not in alice's token: 403 insufficient_scope, with the scope she lacks" \
	-H "Authorization: Bearer $alice" "$base/api/devices/777"
show 403 "7. alice may read device 555 but not command it: 403 insufficient_scope" \
	-X POST -d 'power=on' -H "Authorization: Bearer $alice" "$base/api/devices/555/commands"
show 200 "8. she may command device 123" \
	-X POST -d 'power=on' -H "Authorization: Bearer $alice" "$base/api/devices/123/commands"

say "9. keycard's decision log (keycard-fcgi's stderr, which lighttpd inherits; never a token)"
grep "^keycard" "$work/lighttpd.out" | sed "s/^/  /" | tail -n 8 || true

echo
if [ "$failed" -eq 0 ]; then
	printf '%sdemo: all %d answers as expected%s\n' "$green" "$passed" "$off"
else
	printf '%sdemo: %d of %d answers NOT as expected%s\n' "$red" "$failed" $((passed + failed)) "$off"
fi
[ "$failed" -eq 0 ]

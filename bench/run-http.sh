#!/bin/bash
# shellcheck disable=SC2034  # variables read by render (lib.sh) through ${!name}
# run-http.sh: keycard-fcgi behind real web servers against what users would
# run instead, side by side in one batch, with wrk on 127.0.0.1 (issue 4,
# item 9). Writes the "## HTTP (bench/http)" section of bench/RESULTS.md.
#
#   bench/run-http.sh BUILDDIR          (as root: the servers drop to www-data)
#
# (a) lighttpd, 1 KiB static file: no auth; a do-nothing FastCGI authorizer
#     (bench/http/allow.c); keycard-fcgi as authorizer, one RS256 token
#     repeated (cached) and a different token every request (uncached).
# (b) the same check by Apache + mod_auth_openidc and Apache + mod_oauth2;
#     Apache + mod_authnz_fcgi (TCP) with the do-nothing authorizer and with
#     keycard-fcgi.
# (c) a small sh CGI (examples/cgi-bin/whoami.sh) through fcgiwrap behind
#     lighttpd and nginx, against keycard-fcgi's gateway running it (a route
#     with "auth none; allow;", and one with a token).
#
# Every server, authorizer and gateway is started by this script on
# 127.0.0.1 and stopped by its PID. Needs (Debian 12): lighttpd nginx
# apache2 libapache2-mod-auth-openidc libapache2-mod-oauth2 fcgiwrap
# spawn-fcgi libfcgi-dev wrk curl openssl python3-cryptography.
#
# Environment: WRK_THREADS (2), CONNS (16), WRK_DURATION (5s), WRK_RUNS (3,
# median reported), WRK_WARMUP (1s), WORKERS (4: processes of allow and
# fcgiwrap, threads of keycard-fcgi), N_DISTINCT (16000 tokens: more than
# keycard's 10,000-entry cache), RESULTS (bench/RESULTS.md), KEEP=1 keeps
# the scratch directory.
set -euo pipefail

BUILD=$(cd "${1:?usage: bench/run-http.sh BUILDDIR}" && pwd)
BENCH=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$BENCH")
HTTP=$BENCH/http
RESULTS=${RESULTS:-$BENCH/RESULTS.md}
WRK_THREADS=${WRK_THREADS:-2}
CONNS=${CONNS:-16}
WRK_DURATION=${WRK_DURATION:-5s}
WRK_RUNS=${WRK_RUNS:-3}
WRK_WARMUP=${WRK_WARMUP:-1s}
WORKERS=${WORKERS:-4}
N_DISTINCT=${N_DISTINCT:-16000}
APACHE_MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}
NGINX_FASTCGI_PARAMS=${NGINX_FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}
PATH=$PATH:/usr/sbin:/sbin

die() { echo "run-http.sh: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "run as root (servers and spawn-fcgi drop to www-data)"
[ -x "$BUILD/keycard-fcgi" ] || die "$BUILD/keycard-fcgi not built"
for p in lighttpd nginx apache2 fcgiwrap spawn-fcgi wrk curl openssl python3 cc; do
	command -v "$p" >/dev/null || die "$p not installed"
done
for m in mod_auth_openidc mod_oauth2 mod_authnz_fcgi; do
	[ -e "$APACHE_MODDIR/$m.so" ] || die "$APACHE_MODDIR/$m.so missing"
done
if id www-data >/dev/null 2>&1; then RUN_USER=www-data; else RUN_USER=nobody; fi
RUN_GROUP=$(id -gn "$RUN_USER")

RUN=$(mktemp -d "${TMPDIR:-/tmp}/kc-bench-http.XXXXXX")
chmod 755 "$RUN"
RES=$RUN/results
# shellcheck source=bench/http/lib.sh
. "$HTTP/lib.sh"
cleanup() {
	stop_all
	if [ "${KEEP:-0}" = 1 ]; then echo "(kept $RUN)" >&2; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
T_START=$(date +%s)

free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	die "no free port"
}

# ---------------------------------------------------------------- material
echo "== setting up in $RUN"
mkdir -p "$RUN/bin" "$RUN/htdocs" "$RUN/cgi-bin" "$RES" "$RUN/lighttpd" "$RUN/nginx" "$RUN/apache"
DOCROOT=$RUN/htdocs
CGIDIR=$RUN/cgi-bin
TOKENS=$RUN/tokens
head -c 1023 /dev/zero | tr '\0' 'x' >"$DOCROOT/static.html"
echo >>"$DOCROOT/static.html"                    # 1024 bytes, as in the anchors
cp "$SRC/examples/cgi-bin/whoami.sh" "$CGIDIR/"
cc -O2 -o "$RUN/bin/allow" "$HTTP/allow.c" -lfcgi
cp "$BUILD/keycard-fcgi" "$RUN/bin/keycard-fcgi"
KC_FCGI=$RUN/bin/keycard-fcgi
python3 "$HTTP/gen_tokens.py" "$TOKENS" "$N_DISTINCT"
TOKEN_GOOD=$(head -n 1 "$TOKENS/good.txt")
JWK_ESCAPED=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"][0]; print(json.dumps(k,separators=(",",":")).replace("\"","\\\""))' "$TOKENS/jwks.json")
render "$HTTP/bench.kc.in" "$RUN/bench.kc"
"$KC_FCGI" -c "$RUN/bench.kc" --check
chmod -R a+rX "$RUN"
chown "$RUN_USER:$RUN_GROUP" "$RUN" "$RUN/lighttpd" "$RUN/nginx"

PORT_LIGHTTPD=$(free_port); PORT_NGINX=$(free_port); PORT_APACHE=$(free_port)
PORT_ALLOW_TCP=$(free_port); PORT_KC_TCP=$(free_port)
PORT_AUTHZ_ALLOW=$(free_port); PORT_AUTHZ_KC=$(free_port)
FCGIWRAP_SOCK=$RUN/fcgiwrap.sock
KCGW_SOCK=$RUN/kc-gw.sock

# ---------------------------------------------------------------- backends
echo "== starting FastCGI programs ($WORKERS workers each)"
declare -A KC_LOG
kc_log_of() { echo "${KC_LOG[$1]}"; }
spawn_unix "$RUN/allow-unix.pid" "$RUN/allow.sock" "$WORKERS" "$RUN/bin/allow"
spawn_tcp "$RUN/allow-tcp.pid" "$PORT_ALLOW_TCP" "$WORKERS" "$RUN/bin/allow"
spawn_unix "$RUN/fcgiwrap.pid" "$FCGIWRAP_SOCK" "$WORKERS" "$(command -v fcgiwrap)"
spawn_kc "$RUN/kc-authz.pid" "unix:$RUN/kc-authz.sock" -c "$RUN/bench.kc" --threads "$WORKERS"
spawn_kc "$RUN/kc-tcp.pid" "tcp:$PORT_KC_TCP" -c "$RUN/bench.kc" --threads "$WORKERS"
spawn_kc "$RUN/kc-gw.pid" "unix:$KCGW_SOCK" -c "$RUN/bench.kc" --threads "$WORKERS" --cgi-root "$CGIDIR"
KC_AUTHZ=$(cat "$RUN/kc-authz.pid"); KC_LOG[$KC_AUTHZ]=$RUN/kc-authz.log
KC_TCP=$(cat "$RUN/kc-tcp.pid"); KC_LOG[$KC_TCP]=$RUN/kc-tcp.log
KC_GW=$(cat "$RUN/kc-gw.pid"); KC_LOG[$KC_GW]=$RUN/kc-gw.log
ALLOW_UNIX=$(paste -sd, "$RUN/allow-unix.pid")
ALLOW_TCP=$(paste -sd, "$RUN/allow-tcp.pid")
FCGIWRAP=$(paste -sd, "$RUN/fcgiwrap.pid")

# ---------------------------------------------------------------- servers
echo "== starting lighttpd (3 instances) and nginx"
render "$HTTP/conf/lighttpd.conf.in" "$RUN/lighttpd/lighttpd.conf"
lighttpd -tt -f "$RUN/lighttpd/lighttpd.conf"
run_bg "$RUN/lighttpd/run.pid" lighttpd -D -f "$RUN/lighttpd/lighttpd.conf"
for NAME in allow kc; do
	mkdir -p "$RUN/lighttpd-$NAME"; chown "$RUN_USER:$RUN_GROUP" "$RUN/lighttpd-$NAME"
	if [ $NAME = allow ]; then PORT=$PORT_AUTHZ_ALLOW SOCK=$RUN/allow.sock
	else PORT=$PORT_AUTHZ_KC SOCK=$RUN/kc-authz.sock; fi
	render "$HTTP/conf/lighttpd-authz.conf.in" "$RUN/lighttpd-$NAME/lighttpd.conf"
	lighttpd -tt -f "$RUN/lighttpd-$NAME/lighttpd.conf"
	run_bg "$RUN/lighttpd-$NAME/run.pid" lighttpd -D -f "$RUN/lighttpd-$NAME/lighttpd.conf"
done
render "$HTTP/conf/nginx.conf.in" "$RUN/nginx/nginx.conf"
nginx -t -q -p "$RUN/nginx" -e "$RUN/nginx/error.log" -c "$RUN/nginx/nginx.conf"
run_bg "$RUN/nginx/run.pid" nginx -p "$RUN/nginx" -e "$RUN/nginx/error.log" -c "$RUN/nginx/nginx.conf"
for p in "$PORT_LIGHTTPD" "$PORT_AUTHZ_ALLOW" "$PORT_AUTHZ_KC" "$PORT_NGINX"; do wait_port "$p"; done
render "$HTTP/conf/apache.conf.in" "$RUN/apache/apache.conf"

start_apache() {
	apache2 -t -f "$RUN/apache/apache.conf" "$@" >/dev/null 2>&1 ||
		{ apache2 -t -f "$RUN/apache/apache.conf" "$@"; return 1; }
	run_bg "$RUN/apache/run.pid" apache2 -f "$RUN/apache/apache.conf" -DFOREGROUND "$@"
	wait_port "$PORT_APACHE"
}
stop_apache() { stop_pidfile "$RUN/apache/run.pid"; sleep 0.5; }

L=http://127.0.0.1:$PORT_LIGHTTPD
LA=http://127.0.0.1:$PORT_AUTHZ_ALLOW
LK=http://127.0.0.1:$PORT_AUTHZ_KC
N=http://127.0.0.1:$PORT_NGINX
A=http://127.0.0.1:$PORT_APACHE
AUTH=(-H "Authorization: Bearer $TOKEN_GOOD")
D=$TOKENS/distinct.txt

# ---------------------------------------------------------------- checks
echo "== checking every configuration answers as it should"
expect_status 200 "$L/static.html"
expect_status 200 "$LA/static.html"
expect_status 200 "$LK/static.html" "${AUTH[@]}"
expect_status 200 "$LK/static.html" -H "Authorization: Bearer $(tail -n 1 "$D")"
expect_status 401 "$LK/static.html"
expect_status 403 "$LK/static.html" -H "Authorization: Bearer $(cat "$TOKENS/noscope.txt")"
expect_status 401 "$LK/static.html" -H "Authorization: Bearer $(cat "$TOKENS/badsig.txt")"
for B in "$L" "$N"; do
	expect_status 200 "$B/fcgi-bin/whoami.sh"
	expect_status 200 "$B/cgi-bin/whoami.sh"
	expect_status 200 "$B/tok-bin/whoami.sh" "${AUTH[@]}"
	expect_status 401 "$B/tok-bin/whoami.sh"
	curl -s "${AUTH[@]}" "$B/tok-bin/whoami.sh" | grep -qx 'REMOTE_USER=user0000' ||
		die "$B/tok-bin/whoami.sh did not see the token's subject"
done

# ---------------------------------------------------------------- the batch
echo "== the batch: wrk -t$WRK_THREADS -c$CONNS -d$WRK_DURATION, median of $WRK_RUNS (+ $WRK_WARMUP warm-up)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# (a) lighttpd
bench_interleaved "a_lighttpd_static - $L/static.html" \
	"a_lighttpd_allow_authorizer $ALLOW_UNIX $LA/static.html" \
	"a_lighttpd_keycard_cached $KC_AUTHZ $LK/static.html" \
	"a_lighttpd_keycard_distinct $KC_AUTHZ $LK/static.html $D"
# (b) Apache: mod_authnz_fcgi (do-nothing, keycard), mod_auth_openidc, mod_oauth2
start_apache -D AUTHNZ
expect_status 200 "$A/static.html"
expect_status 200 "$A/allow/static.html"
expect_status 200 "$A/kc/static.html" "${AUTH[@]}"
expect_status 401 "$A/kc/static.html"
expect_status 403 "$A/kc/static.html" -H "Authorization: Bearer $(cat "$TOKENS/noscope.txt")"
bench_interleaved "b_apache_static - $A/static.html" \
	"b_apache_allow_authorizer $ALLOW_TCP $A/allow/static.html" \
	"b_apache_keycard_cached $KC_TCP $A/kc/static.html" \
	"b_apache_keycard_distinct $KC_TCP $A/kc/static.html $D"
stop_apache
start_apache -D OIDC
expect_status 200 "$A/oidc/static.html" "${AUTH[@]}"
expect_status 401 "$A/oidc/static.html"
expect_status 403 "$A/oidc/static.html" -H "Authorization: Bearer $(cat "$TOKENS/noscope.txt")"
bench b_apache_openidc_same - "$A/oidc/static.html"
bench b_apache_openidc_distinct - "$A/oidc/static.html" "$D"
stop_apache
OAUTH2_OK=0
if start_apache -D OAUTH2 &&
	expect_status 200 "$A/oauth2/static.html" "${AUTH[@]}" &&
	expect_status 401 "$A/oauth2/static.html" &&
	expect_status 403 "$A/oauth2/static.html" -H "Authorization: Bearer $(cat "$TOKENS/noscope.txt")"; then
	OAUTH2_OK=1
	bench b_apache_oauth2_same - "$A/oauth2/static.html"
	bench b_apache_oauth2_distinct - "$A/oauth2/static.html" "$D"
else
	echo "mod_oauth2: not measured (see above)" >&2
	tail -n 5 "$RUN/apache/error.log" >&2 || true
fi
stop_apache
# (c) the CGI program: fcgiwrap vs keycard's gateway, lighttpd and nginx
bench_interleaved "c_lighttpd_fcgiwrap $FCGIWRAP $L/fcgi-bin/whoami.sh" \
	"c_lighttpd_keycard_gw_open $KC_GW $L/cgi-bin/whoami.sh" \
	"c_lighttpd_keycard_gw_token $KC_GW $L/tok-bin/whoami.sh"
bench_interleaved "c_nginx_fcgiwrap $FCGIWRAP $N/fcgi-bin/whoami.sh" \
	"c_nginx_keycard_gw_open $KC_GW $N/cgi-bin/whoami.sh" \
	"c_nginx_keycard_gw_token $KC_GW $N/tok-bin/whoami.sh"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_all

# RS256 verify cost on one core, same session: keycard's own (bench/verify)
# and openssl speed's bare RSA-2048 public-key operation.
VERIFY_KC=-
if [ -x "$BUILD/bench/verify" ]; then
	VERIFY_KC=$("$BUILD/bench/verify" --alg RS256 --only keycard 2>/dev/null |
		awk '/RS256/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/ && $i + 0 > 1000) { print $i; exit } }' || true)
	[ -n "$VERIFY_KC" ] || VERIFY_KC=-
fi
VERIFY_OSSL=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $NF; exit }')
ELAPSED=$(($(date +%s) - T_START))

# ---------------------------------------------------------------- report
TSV=$RES/http.tsv
rps() { awk -F'\t' -v l="$1" '$1 == l { print $2 }' "$TSV"; }
col() { awk -F'\t' -v l="$1" -v c="$2" '$1 == l { print $c }' "$TSV"; }
ratio() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
dus() { awk -v a="$(rps "$1")" -v b="$(rps "$2")" 'BEGIN { if (a == "" || b == "" || a == 0 || b == 0) print "-"; else printf "%+.1f", 1e6 / a - 1e6 / b }'; }
met() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "-" || v == "") print "not measured"; else print (v + 0 >= t ? "met" : "NOT met") }'; }
us_of() { awk -v r="$1" 'BEGIN { if (r == "-" || r == "" || r == 0) print "-"; else printf "%.1f", 1e6 / r }'; }
VERIFY_US=$(us_of "$VERIFY_KC"); [ "$VERIFY_US" = - ] && VERIFY_US=$(us_of "$VERIFY_OSSL")
better_apache=b_apache_openidc_same
if [ "$OAUTH2_OK" = 1 ] && [ "$(rps b_apache_oauth2_same)" -gt "$(rps b_apache_openidc_same)" ]; then
	better_apache=b_apache_oauth2_same
fi
R_A1=$(ratio a_lighttpd_keycard_cached a_lighttpd_allow_authorizer)
D_A2=$(dus a_lighttpd_keycard_distinct a_lighttpd_keycard_cached)
CPU_A2=$(awk -v a="$(col a_lighttpd_keycard_distinct 11)" -v b="$(col a_lighttpd_keycard_cached 11)" 'BEGIN { printf "%+.1f", a - b }')
R_B1=$(ratio a_lighttpd_keycard_cached "$better_apache")
R_B2=$(ratio b_apache_keycard_cached b_apache_allow_authorizer)
R_B3=$(ratio b_apache_keycard_cached b_apache_openidc_same)
R_B4=$(ratio b_apache_keycard_distinct b_apache_openidc_distinct)
R_C1=$(ratio c_lighttpd_keycard_gw_open c_lighttpd_fcgiwrap)
R_C2=$(ratio c_nginx_keycard_gw_open c_nginx_fcgiwrap)
R_C3=$(ratio c_lighttpd_keycard_gw_token c_lighttpd_fcgiwrap)
R_C4=$(ratio c_nginx_keycard_gw_token c_nginx_fcgiwrap)
A2_OK=$(awk -v d="$D_A2" -v v="$VERIFY_US" 'BEGIN { print (d + 0 <= v + 0 ? "met" : "NOT met") }')
A2_CPU_OK=$(awk -v d="$CPU_A2" -v v="$VERIFY_US" 'BEGIN { print (d + 0 <= v + 0 ? "met" : "NOT met") }')
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
ver() { "$@" 2>&1 | head -n 1; }

section() {
	cat <<EOT
## HTTP (bench/http)

\`bench/run-http.sh BUILDDIR\` (as root) starts every server and FastCGI
program below on 127.0.0.1, measures them one after the other in one batch,
stops each by its PID and rewrites this section. Only ratios within one batch
mean anything: the load generator and the servers share the machine's cores.

Machine: $(nproc) CPUs, ${CPU_MODEL:-unknown CPU}, $(uname -sr); $(ver lighttpd -v),
$(ver nginx -v | sed 's/^nginx version: //'), $(ver apache2 -v | sed 's/^Server version: //'),
mod_auth_openidc $(dpkg-query -W -f '${Version}' libapache2-mod-auth-openidc 2>/dev/null || echo '?'),
mod_oauth2 $(dpkg-query -W -f '${Version}' libapache2-mod-oauth2 2>/dev/null || echo '?'),
fcgiwrap $(dpkg-query -W -f '${Version}' fcgiwrap 2>/dev/null || echo '?'), $(ver wrk -v | awk '{ print $1, $2 }'),
$(openssl version). Measured $(date -u +%Y-%m-%dT%H:%MZ) in ${ELAPSED} s;
load average before $LOAD_BEFORE, after $LOAD_AFTER.

Method: every row is \`wrk -t$WRK_THREADS -c$CONNS -d$WRK_DURATION\` with
bench/http/bearer.lua (the same client work in every row: one
\`Authorization: Bearer\` RS256 token of $(($(wc -c <"$TOKENS/good.txt") - 1)) bytes, or a
different one each request from $N_DISTINCT tokens, more than keycard's
10,000-entry cache, each wrk thread starting at its own offset), after a
$WRK_WARMUP warm-up; the median of $WRK_RUNS runs, min and max beside it.
The rows compared with each other are measured in turn, run by run
(static, do-nothing, keycard cached, keycard distinct, then again; the same
for the Apache authorizer rows and for each server's CGI rows), so that a
drift of the machine during the batch falls on all of them alike.
The check everywhere: RS256 signature against the issuer's key, iss, aud,
exp, and the scope legacy.read (keycard: bench/http/bench.kc.in;
mod_auth_openidc: \`Require claim\` of iss, aud and a scope regex;
mod_oauth2: \`Require oauth2_claim\` of iss, aud and, as its regex match
did not work, the whole scope string); a missing token gives 401 and a token
without the scope 403 everywhere (checked before the batch). FastCGI
programs run as $WORKERS workers: bench/http/allow.c (do-nothing, always
allow; built with \`cc -lfcgi\`) and fcgiwrap as $WORKERS processes under
spawn-fcgi, keycard-fcgi as one process with \`--threads $WORKERS\` on a
socket made by spawn-fcgi, writing its decision log line per request. The
CGI program is examples/cgi-bin/whoami.sh. Servers: lighttpd single
process; nginx \`worker_processes auto\`; Apache mpm_event with Debian's
numbers; unlimited keep-alive, no access logs (bench/http/conf/).
"Foreign CPU" is the share of the machine used during a run by processes
this script did not start (before each run the script waits at most
${QUIET_MAX:-4} s for it to fall to ${QUIET_PCT:-10} %). "FastCGI CPU" is
the FastCGI program's own user+system time (keycard-fcgi, allow or fcgiwrap;
not the CGI processes they fork) over the recorded runs divided by their
requests (/proc/PID/stat, 10 ms ticks); cache hits/misses are keycard's own
counters (SIGUSR1) over the recorded runs.

Extra cost per request: at a fixed concurrency the machine is saturated, so
1/(req/s) is the machine time each request takes; the difference of 1/(req/s)
between two rows of the batch is the extra wall time per request of the
slower one, in µs. For the uncached row the target compares that (and,
directly, the extra keycard CPU per request) with one RS256 verification on
one core: ${VERIFY_US} µs (keycard's own \`bench/verify --alg RS256\`:
${VERIFY_KC}/s; \`openssl speed rsa2048\` bare verify: ${VERIFY_OSSL}/s,
same session).

| row | req/s (median) | min | max | p50 ms | p99 ms | non-2xx | foreign CPU % | FastCGI CPU µs/req | keycard cache hits / misses |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n", $1, $2, $3, $4, $6, $7, $8, $10, $11, $12, $13 }' "$TSV")

| target | value | |
|---|---:|---|
| (a) lighttpd + keycard, cached / lighttpd + do-nothing authorizer ≥ 0.9 | $R_A1 | $(met "$R_A1" 0.9) |
| (a) uncached extra wall time per request, Δ(1/req/s) vs cached, ≤ one RS256 verify (${VERIFY_US} µs) | $D_A2 µs | $A2_OK |
| (a) uncached extra keycard CPU per request vs cached, ≤ one RS256 verify | $CPU_A2 µs | $A2_CPU_OK |
| (a) for scale: do-nothing authorizer hop vs no auth, Δ(1/req/s) | $(dus a_lighttpd_allow_authorizer a_lighttpd_static) µs | ratio $(ratio a_lighttpd_allow_authorizer a_lighttpd_static) |
| (a) FastCGI CPU per request: keycard cached − do-nothing authorizer | $(awk -v a="$(col a_lighttpd_keycard_cached 11)" -v b="$(col a_lighttpd_allow_authorizer 11)" 'BEGIN { printf "%+.1f", a - b }') µs | reported |
| (b) lighttpd + keycard (cached) / the better Apache module ($better_apache) ≥ 3 | $R_B1 | $(met "$R_B1" 3) |
| (b) ceiling for the line above: lighttpd + do-nothing authorizer / the better Apache module | $(ratio a_lighttpd_allow_authorizer "$better_apache") | bound |
| (b) lighttpd + keycard (uncached) / the better Apache module, distinct tokens | $(ratio a_lighttpd_keycard_distinct "${better_apache%_same}_distinct") | |
| (b) Apache + keycard (cached) / Apache + do-nothing authorizer ≥ 0.9 | $R_B2 | $(met "$R_B2" 0.9) |
| (b) Apache + keycard / Apache + mod_auth_openidc: same token; distinct tokens | $R_B3; $R_B4 | reported |
| (b) Apache + mod_oauth2 / mod_auth_openidc, same token | $( [ "$OAUTH2_OK" = 1 ] && ratio b_apache_oauth2_same b_apache_openidc_same || echo -) | $( [ "$OAUTH2_OK" = 1 ] && echo reported || echo "mod_oauth2 did not pass the checks: not measured") |
| (c) keycard gateway (auth none) / fcgiwrap ≥ 0.95, lighttpd | $R_C1 | $(met "$R_C1" 0.95) |
| (c) keycard gateway (auth none) / fcgiwrap ≥ 0.95, nginx | $R_C2 | $(met "$R_C2" 0.95) |
| (c) keycard gateway with a token / fcgiwrap without: lighttpd; nginx | $R_C3; $R_C4 | reported |

Reading it: the FastCGI authorizer hop, not keycard, sets the ceiling of
every authorizer row: keycard cannot be faster than the do-nothing
authorizer, so "lighttpd + keycard ≥ 3 × the better Apache module" can only
hold in a batch where the ceiling row says ≥ 3. Where keycard-fcgi's own time
goes as lighttpd's authorizer with a cached token (\`perf record\` on its
PID, by hand, 2026-11-23): most of it in the kernel (accept, read, write,
libfcgi's shutdown + poll before close, close: one FastCGI connection per
request, the same work allow.c does). keycard's own share, measured in
process by bench/gateway (its section below; \`make bench\`): 1.2 µs a
request without the log line, 2.4 µs with it written to a file, the
write(2) being most of the difference; kc_decide is about 0.5 µs. Before
the answer and the log line were built without printf, SHA-256 was
fetched once instead of looked up per token and a cache hit took the
token's log hash from the entry, that was 2.15 and 3.8 µs.
mod_auth_openidc verifies every token again (same-token and distinct rows
alike); mod_oauth2 caches results, 1,000 entries by default, so the distinct
row is its uncached cost.
EOT
}
section >"$RES/section.md"
cat "$RES/section.md"
sh "$SRC/bench/update-results.sh" "$RESULTS" "## HTTP (bench/http)" "$RES/section.md"
echo "== wrote the HTTP section of $RESULTS (${ELAPSED} s)"

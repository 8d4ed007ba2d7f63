#!/bin/sh
# run-gateway.sh: keycard-fcgi's own work per authorizer request, in process
# (bench/gateway), and its place in bench/RESULTS.md (make bench runs it).
#
#   bench/run-gateway.sh [BUILDDIR]       (default ".": where bench/gateway was built)
#
# Makes an ES256 key, a token and a one-route policy (the check the HTTP
# batch makes: issuer, audience, exp, one scope), then times kc_gw_handle()
# on lighttpd's authorizer params with the token cached: without the
# decision log line, and with it written to a file. Writes the section
# "## keycard-fcgi per request, in process (bench/gateway)" of
# bench/RESULTS.md (bench/update-results.sh: replaced in place, or appended).
#
# Environment: BENCH_SECONDS (per round, default 0.5), BENCH_ROUNDS (best
# of, default 5), BENCH_RESULTS (the file to update; "-" for none).
set -eu

build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench/gateway
keycard=$build/keycard
for b in "$bin" "$keycard"; do
	[ -x "$b" ] || { echo "run-gateway.sh: $b not found: run make first" >&2; exit 2; }
done
secs=${BENCH_SECONDS:-0.5}
rounds=${BENCH_ROUNDS:-5}
results=${BENCH_RESULTS:-$src/bench/RESULTS.md}
heading='## keycard-fcgi per request, in process (bench/gateway)'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-bench-gw.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$keycard" keygen --alg ES256 --kid b1 --public "$tmp/jwks.json" >"$tmp/key.jwk"
token=$("$keycard" mint --key "$tmp/key.jwk" --iss https://issuer.bench.test --aud legacy-app \
	--sub alice --scope legacy.read --ttl 10h)
cat >"$tmp/bench.kc" <<KC
keycard 1;
realm "bench";
issuer bench "https://issuer.bench.test" {
    audience "legacy-app";
    algorithms ES256;
    jwks file "$tmp/jwks.json";
}
scopes { source "scope"; }
resource files {
    mount /;
    auth required;
    route GET /static.html { allow as "static" if scope "legacy.read"; }
}
KC

echo "bench/gateway ($secs s per round, best of $rounds) ..." >&2
quiet=$("$bin" "$tmp/bench.kc" "$token" --seconds "$secs" --rounds "$rounds" | awk '/^ns_per_request/ { print $2 }')
logged=$("$bin" "$tmp/bench.kc" "$token" --seconds "$secs" --rounds "$rounds" --log "$tmp/decisions.log" |
	awk '/^ns_per_request/ { print $2 }')
[ -n "$quiet" ] && [ -n "$logged" ] || { echo "run-gateway.sh: bench/gateway failed" >&2; exit 1; }

{
	echo "$heading"
	echo
	echo "\`bench/run-gateway.sh\` ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs,"
	echo "$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)):"
	echo "kc_gw_handle() in a loop on the params lighttpd sends an authorizer, the"
	echo "token cached (ES256, issuer, audience, exp, one scope): params to"
	echo "request, cache lookup (keyed hash), kc_decide(), the Status and"
	echo "Variable-* answer, the log line. No socket: this is keycard's own share"
	echo "of a request; the FastCGI hop around it is in the HTTP section. Best of"
	echo "$rounds rounds of $secs s."
	echo
	echo "| keycard-fcgi, one cached request | ns |"
	echo "|---|---:|"
	echo "| without the decision log line | $quiet |"
	echo "| with the log line written to a file (one write(2)) | $logged |"
} >"$tmp/section.md"
cat "$tmp/section.md"

[ "$results" = - ] && exit 0
sh "$src/bench/update-results.sh" "$results" "$heading" "$tmp/section.md"
echo "run-gateway.sh: updated $results" >&2

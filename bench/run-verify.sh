#!/bin/sh
# run-verify.sh: token verification throughput, keycard against OpenSSL,
# side by side in one run on one machine (make bench runs it).
#
#   bench/run-verify.sh [BUILDDIR]        (default ".": where bench/verify was built)
#
# Runs bench/verify (keycard's kc_token_verify and the raw OpenSSL primitive
# in one process, one thread), then `openssl speed` (one thread) for the same
# algorithms: rsa2048 for RS*/PS* (2048-bit keys), ecdsap256/p384/p521 for
# ES256/384/512, ed25519 for EdDSA, and -hmac with each SHA-2 over as many
# bytes as the benchmark's signing input for HS*. Prints the machine, then
# a markdown table for bench/RESULTS.md, then the targets.
#
# Environment: BENCH_SECONDS (per figure, default 1), BENCH_ROUNDS (best of,
# default 3), OPENSSL_SECONDS (per openssl speed figure, default 2),
# BENCH_ALGS (e.g. "RS256 HS256"; default all).
set -eu

build=${1:-.}
verify=$build/bench/verify
[ -x "$verify" ] || { echo "run-verify.sh: $verify not found: run make first" >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || { echo "run-verify.sh: openssl not found" >&2; exit 2; }
secs=${BENCH_SECONDS:-1}
rounds=${BENCH_ROUNDS:-3}
ossl_secs=${OPENSSL_SECONDS:-2}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

algargs=
for a in ${BENCH_ALGS:-}; do algargs="$algargs --alg $a"; done

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
echo "OpenSSL: $(openssl version)"
echo "Date: $(date -u +%Y-%m-%dT%H:%MZ)"
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
echo "Load average before: $(load) (other processes on the machine skew every figure)"
echo

echo "bench/verify ($secs s per figure, best of $rounds) ..." >&2
# shellcheck disable=SC2086 # algargs is a list of options
"$verify" --seconds "$secs" --rounds "$rounds" $algargs >"$tmp/kc.tsv"
grep '^# OpenSSL' "$tmp/kc.tsv" | sed 's/^# /bench\/verify: /'
echo

echo "openssl speed ($ossl_secs s per figure) ..." >&2
openssl speed -mr -seconds "$ossl_secs" rsa2048 ecdsap256 ecdsap384 ecdsap521 ed25519 \
	>"$tmp/pk.txt" 2>&1
# -mr lines: +F2:i:bits:sign/s:verify/s (RSA), +F4 (ECDSA), +F6:i:bits:name:sign/s:verify/s (EdDSA)
awk -F: '
	/^\+F2:/ && $3 == 2048 { print "rsa2048", $5 }
	/^\+F4:/ { print "ecdsap" $3, $5 }
	/^\+F6:/ && $4 == "Ed25519" { print "ed25519", $6 }
' "$tmp/pk.txt" >"$tmp/speed.txt"
for h in 256 384 512; do
	n=$(awk -v a="HS$h" '$1 == a { print $7 }' "$tmp/kc.tsv")
	[ -n "$n" ] || continue
	openssl speed -mr -seconds "$ossl_secs" -bytes "$n" -hmac "sha$h" >"$tmp/hmac$h.txt" 2>&1
	# +F:i:hmac(shaN):bytes/s over n-byte inputs
	awk -F: -v h="$h" -v n="$n" '/^\+F:/ { printf "hmac-sha%s %.0f\n", h, $4 / n }' \
		"$tmp/hmac$h.txt" >>"$tmp/speed.txt"
done

echo "Load average after the measurements: $(load)"
echo
awk -v secs="$secs" -v rounds="$rounds" '
	FNR == NR { speed[$1] = $2; next }
	/^#/ { next }
	{
		alg = $1
		if (alg ~ /^HS/) ref = "hmac-sha" substr(alg, 3)
		else if (alg ~ /^(RS|PS)/) ref = "rsa2048"
		else if (alg == "ES256") ref = "ecdsap256"
		else if (alg == "ES384") ref = "ecdsap384"
		else if (alg == "ES512") ref = "ecdsap521"
		else ref = "ed25519"
		kc = $2; jws = $3; raw = ($4 > $5) ? $4 : $5
		sp = (ref in speed) ? speed[ref] : 0
		order[++n] = alg; kcv[alg] = kc; rawv[alg] = raw
		line[alg] = sprintf("| %s | %d | %d | %s | %s | %s | %.2f | %d |", alg, kc, raw,
		    sp ? sprintf("%d", sp) : "-", ref, sp ? sprintf("%.2f", kc / sp) : "-",
		    kc / raw, jws)
	}
	END {
		print "| algorithm | keycard verifies/s | raw OpenSSL verify/s (in process) | openssl speed verify/s | openssl speed figure | keycard / openssl speed | keycard / raw | kc_jws_verify/s (signature layer only) |"
		print "|---|---:|---:|---:|---|---:|---:|---:|"
		for (i = 1; i <= n; i++) print line[order[i]]
		print ""
		print "Targets:"
		split("RS256 PS256 ES256 EdDSA", t, " ")
		for (i = 1; i <= 4; i++) {
			a = t[i]
			if (!(a in kcv)) continue
			r = kcv[a] / rawv[a]
			printf "- %s keycard/raw >= 0.90: %.2f, %s\n", a, r, (r >= 0.9 ? "met" : "MISSED")
		}
		if ("HS256" in kcv)
			printf "- HS256 >= 400000 verifies/s: %d, %s\n", kcv["HS256"],
			    (kcv["HS256"] >= 400000 ? "met" : "MISSED")
	}
' "$tmp/speed.txt" "$tmp/kc.tsv" | tee "$tmp/table.md"

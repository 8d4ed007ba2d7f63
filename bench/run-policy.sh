#!/bin/sh
# run-policy.sh: the cost of a policy decision (bench/policy) and its place
# in bench/RESULTS.md (make bench runs it).
#
#   bench/run-policy.sh [BUILDDIR]        (default ".": where bench/policy was built)
#
# Runs bench/policy on the source tree's policies/ (the device example) and
# on the 100-route, 1,000-rule policy it generates, prints the machine and
# the tables, and writes them as the section "## Policy evaluation
# (bench/policy)" of bench/RESULTS.md: replaced in place if the file has it,
# appended otherwise (the file is created if missing). The other sections
# of the file are left as they are.
#
# Environment: BENCH_SECONDS (per round, default 0.25), BENCH_ROUNDS (best
# of, default 8), BENCH_COMPILE_RUNS (default 20), BENCH_RESULTS (the file
# to update, default bench/RESULTS.md in the source tree; "-" to update none).
set -eu

build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench/policy
[ -x "$bin" ] || { echo "run-policy.sh: $bin not found: run make first" >&2; exit 2; }
secs=${BENCH_SECONDS:-0.25}
rounds=${BENCH_ROUNDS:-8}
compile_runs=${BENCH_COMPILE_RUNS:-20}
results=${BENCH_RESULTS:-$src/bench/RESULTS.md}
heading='## Policy evaluation (bench/policy)'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-bench-policy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
{
	echo "$heading"
	echo
	echo "Machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
	echo "Date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "Load average before: $(load) (other processes on the machine skew every figure)"
} >"$tmp/head.md"
cat "$tmp/head.md"

echo "bench/policy ($secs s per round, best of $rounds) ..." >&2
"$bin" --policies "$src/policies" --seconds "$secs" --rounds "$rounds" \
	--compile-runs "$compile_runs" >"$tmp/body.md"
{
	echo "Load average after the measurements: $(load)"
	echo
	cat "$tmp/body.md"
} >"$tmp/after.md"
cat "$tmp/after.md"
cat "$tmp/after.md" >>"$tmp/head.md"

[ "$results" = - ] && exit 0
sh "$src/bench/update-results.sh" "$results" "$heading" "$tmp/head.md"
echo "run-policy.sh: updated $results" >&2

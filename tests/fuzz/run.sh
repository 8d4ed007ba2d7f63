#!/bin/sh
# run.sh: builds the token fuzzer (libFuzzer + ASan + UBSan) and runs it.
#
#   tests/fuzz/run.sh [SECONDS] [BUILDDIR]        (default 60 s, BUILDDIR "." or $KC_BUILDDIR)
#
# BUILDDIR is a directory where keycard was configured (it holds config.h);
# the fuzzer is compiled from the sources directly (src/core, src/token and
# fuzz_token.c, all instrumented), not linked with the build's library.
# Output goes to BUILDDIR/fuzz/: the fuzz_token binary, corpus/ (a copy of
# tests/fuzz/corpus plus what the fuzzer finds; kept between runs) and
# crash-*/leak-*/timeout-* artifacts. Exits non-zero when the fuzzer finds
# a crash, leak, timeout or broken contract, and prints how to reproduce it.
#
# Environment: CC (default clang; needs libFuzzer: Debian clang + libclang-rt-dev),
# FUZZ_FLAGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -eu

secs=${1:-60}
build=${2:-${KC_BUILDDIR:-.}}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [BUILDDIR]" >&2; exit 2 ;; esac

src=$(cd "$(dirname "$0")/../.." && pwd)
fuzz=$src/tests/fuzz
if [ -f "$build/config.h" ]; then
	confdir=$(cd "$build" && pwd)
elif [ -f "$src/config.h" ]; then
	confdir=$src
else
	echo "run.sh: no config.h in '$build' or '$src': run configure first and give its directory" >&2
	exit 2
fi
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || {
	echo "run.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
}
deps=$(pkg-config --cflags --libs libcrypto jansson) || {
	echo "run.sh: pkg-config cannot find libcrypto and jansson" >&2
	exit 2
}

out=$(cd "$confdir" && pwd)/fuzz
mkdir -p "$out/corpus"
echo "run.sh: building $out/fuzz_token with $CC"
# shellcheck disable=SC2086 # $deps is a list of flags
"$CC" -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Wno-unused-parameter \
	-I"$confdir" -I"$src/src" -DKC_FUZZ_DIR="\"$fuzz\"" \
	-o "$out/fuzz_token" "$fuzz/fuzz_token.c" "$src"/src/core/*.c "$src"/src/token/*.c \
	$deps

# The seeds are copied in each time; what earlier runs found stays.
cp "$fuzz"/corpus/* "$out/corpus/"
echo "run.sh: fuzzing for $secs s over $(find "$out/corpus" -type f | wc -l) inputs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rc=0
# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
"$out/fuzz_token" -max_total_time="$secs" -dict="$fuzz/token.dict" \
	-artifact_prefix="$out/" -timeout=10 -rss_limit_mb=2048 -max_len=20000 \
	-print_final_stats=1 ${FUZZ_FLAGS:-} "$out/corpus" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "run.sh: the fuzzer failed (exit $rc); reproduce with:" >&2
	for f in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
		[ -e "$f" ] && echo "  $out/fuzz_token $f" >&2
	done
	exit 1
fi
echo "run.sh: no crash in $secs s"

#!/usr/bin/env bash
# Installs what keycard needs, builds it out of tree in _build/ and runs every test.
# With --all (what CI runs) it also runs the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer (_build-san/), the libFuzzer target and make distcheck.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: tests/run-all.sh [OPTION]...
Installs the Debian packages keycard needs (tests/install-deps.sh), builds in
_build/ and runs `make check`.

  --sanitizers       also build in _build-san/ with --enable-sanitizers and run
                     `make unit-check` there (ASan + UBSan, leaks included)
  --fuzz[=SECONDS]   also run the libFuzzer target (tests/fuzz/run.sh), default 60 s
  --distcheck        also run `make distcheck` in _build/
  --all              all three of the above (what .ci/run does)
  --build-only       install and build, run no test
  --no-deps          do not run tests/install-deps.sh
  -h, --help         this text

Environment: KC_SANITIZERS=1, KC_FUZZ_SECONDS=N, KC_DISTCHECK=1 and KC_NO_DEPS=1
do the same as the options; KC_JOBS sets make's -j (default 2).
Exit status: 0 when everything that ran passed, 1 when something failed.
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${KC_JOBS:-2}
sanitizers=${KC_SANITIZERS:-0}
fuzz_seconds=${KC_FUZZ_SECONDS:-0}
distcheck=${KC_DISTCHECK:-0}
no_deps=${KC_NO_DEPS:-0}
build_only=0

for arg in "$@"; do
	case $arg in
	--sanitizers) sanitizers=1 ;;
	--fuzz) fuzz_seconds=60 ;;
	--fuzz=*) fuzz_seconds=${arg#--fuzz=} ;;
	--distcheck) distcheck=1 ;;
	--all) sanitizers=1; distcheck=1; [ "$fuzz_seconds" != 0 ] || fuzz_seconds=60 ;;
	--build-only) build_only=1 ;;
	--no-deps) no_deps=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-all: unknown option '$arg' (try --help)" >&2; exit 2 ;;
	esac
done
case $fuzz_seconds in
''|*[!0-9]*) echo "run-all: --fuzz wants a number of seconds, not '$fuzz_seconds'" >&2; exit 2 ;;
esac

say() { printf '\n== %s\n' "$*"; }

if [ "$no_deps" != 1 ]; then
	say "installing build and test dependencies"
	"$repo/tests/install-deps.sh"
fi

# Under sudo, build and test as the user who owns the checkout, so that no
# root-owned files are left in it and the tests do not run as root.
if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "${SUDO_UID:-0}" != 0 ] &&
	[ "$(stat -c %u "$repo")" = "$SUDO_UID" ]; then
	args=(--no-deps)
	[ "$build_only" = 1 ] && args+=(--build-only)
	[ "$sanitizers" = 1 ] && args+=(--sanitizers)
	[ "$distcheck" = 1 ] && args+=(--distcheck)
	[ "$fuzz_seconds" != 0 ] && args+=("--fuzz=$fuzz_seconds")
	echo "run-all: continuing as $SUDO_USER, the owner of $repo"
	exec runuser -u "$SUDO_USER" -- env KC_JOBS="$jobs" bash "$repo/tests/run-all.sh" "${args[@]}"
fi

started=$SECONDS
phase_start=$SECONDS
results=()      # one line per phase for the summary
n_passed=0
n_failed=0
status=0

elapsed() { echo "$((SECONDS - phase_start)) s"; }

# build DIR [CONFIGURE-ARGS...]: configure (once) and make in $repo/DIR.
build() {
	local dir=$repo/$1
	shift
	if [ ! -x "$repo/configure" ]; then
		say "autogen.sh (configure is missing)"
		(cd "$repo" && ./autogen.sh)
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		say "configure in ${dir#"$repo"/} $*"
		(cd "$dir" && "$repo/configure" -q "$@")
	fi
	say "make -j$jobs in ${dir#"$repo"/}"
	make -C "$dir" -s -j"$jobs"
}

# show_failures DIR: prints the log of every test that did not pass.
show_failures() {
	local dir=$1 trs log
	while IFS= read -r trs; do
		if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
			log=${trs%.trs}.log
			printf '\n---- %s (last 300 lines) ----\n' "${log#"$dir"/}"
			tail -n 300 "$log" || true
		fi
	done < <(find "$dir/tests" -name '*.trs' 2>/dev/null | sort)
}

# tally DIR: adds the results of the last test run in DIR to the totals.
# A Criterion program counts its test cases; any other test counts as one.
tally() {
	local dir=$1 trs log syn p f
	while IFS= read -r trs; do
		log=${trs%.trs}.log
		syn=$(sed 's/\x1b\[[0-9;]*m//g' "$log" 2>/dev/null | grep -o 'Synthesis: Tested: [0-9]* | Passing: [0-9]* | Failing: [0-9]*' | tail -n 1 || true)
		if [[ $syn =~ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+) ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
			# a crash after the tests (e.g. a leak report) fails the program
			if [ "$f" = 0 ] && grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then f=1; fi
		elif grep -Eq '^:test-result: (PASS|XFAIL)' "$trs"; then
			p=1 f=0
		elif grep -Eq '^:test-result: SKIP' "$trs"; then
			p=0 f=0
		else
			p=0 f=1
		fi
		n_passed=$((n_passed + p))
		n_failed=$((n_failed + f))
	done < <(find "$dir/tests" -name '*.trs' 2>/dev/null | sort)
}

# run_tests NAME DIR MAKE-TARGET: runs the target, tallies, shows failures;
# the time reported is since phase_start.
run_tests() {
	local name=$1 dir=$repo/$2 target=$3 programs
	say "make -j$jobs $target in $2"
	find "$dir/tests" \( -name '*.trs' -o -name '*.log' \) -delete 2>/dev/null || true
	if make -C "$dir" -j"$jobs" "$target"; then
		programs=$(find "$dir/tests" -name '*.trs' | wc -l)
		results+=("$name: passed ($programs test programs, $(elapsed))")
	else
		show_failures "$dir"
		results+=("$name: FAILED ($(elapsed)); logs in $2/tests/")
		status=1
	fi
	tally "$dir"
}

phase_start=$SECONDS
build _build
if [ "$build_only" = 1 ]; then
	say "built: $repo/_build/keycard"
	exit 0
fi

run_tests "make check" _build check

if [ "$sanitizers" = 1 ]; then
	phase_start=$SECONDS
	build _build-san --enable-sanitizers
	# Criterion runs each test in a forked worker; each worker reports its own
	# leaks at exit, and any report makes the test program fail. Oversized
	# allocations return NULL, as without ASan, so tests of that path can run.
	export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
	export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
	run_tests "sanitizers (ASan+UBSan) unit-check" _build-san unit-check
	unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ "$fuzz_seconds" != 0 ]; then
	phase_start=$SECONDS
	if [ -f "$repo/tests/fuzz/run.sh" ]; then
		say "fuzzing for $fuzz_seconds s (tests/fuzz/run.sh)"
		if bash "$repo/tests/fuzz/run.sh" "$fuzz_seconds" "$repo/_build"; then
			results+=("fuzz ($fuzz_seconds s): passed ($(elapsed))")
			n_passed=$((n_passed + 1))
		else
			results+=("fuzz ($fuzz_seconds s): FAILED ($(elapsed))")
			n_failed=$((n_failed + 1))
			status=1
		fi
	else
		results+=("fuzz: skipped, tests/fuzz/run.sh is missing")
	fi
fi

if [ "$distcheck" = 1 ]; then
	phase_start=$SECONDS
	say "make -j$jobs distcheck in _build"
	if make -C "$repo/_build" -j"$jobs" distcheck; then
		results+=("make distcheck: passed ($(elapsed))")
		n_passed=$((n_passed + 1))
	else
		results+=("make distcheck: FAILED ($(elapsed))")
		n_failed=$((n_failed + 1))
		status=1
	fi
fi

say "summary ($((SECONDS - started)) s)"
for r in "${results[@]}"; do echo "  $r"; done
if [ "$status" = 0 ]; then
	echo "run-all: every test passed"
else
	echo "run-all: SOME TESTS FAILED (see above)"
fi
echo "tests: $n_passed passed, $n_failed failed"
exit "$status"

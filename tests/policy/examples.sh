#!/bin/sh
# examples.sh: the shipped policies compile and pass their own tests
# (issue 3 item 8; STYLE.md §8 "every file in policies/ must compile").
# Runs, from the source directory, `keycard check policies/main.kc` (which
# reads every file main.kc includes) and `keycard test policies/tests/*.kct`
# (which signs its claim fixtures and runs the whole decision, signature
# included). Their output is shown indented, so the last line is ours.
#
# Environment: KEYCARD (the keycard binary), KC_SRCDIR (the source tree).
# Prints one line per step and "N passed, N failed"; exits 1 if either fails.
set -u

KEYCARD=${KEYCARD:-./keycard}
SRCDIR=${KC_SRCDIR:-$(dirname "$0")/../..}

case $KEYCARD in
/*) ;;
*) KEYCARD=$(pwd)/$KEYCARD ;;
esac
if [ ! -x "$KEYCARD" ]; then
	echo "keycard binary not found: $KEYCARD" >&2
	exit 99 # hard error for the automake harness
fi
cd "$SRCDIR" || exit 99

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-examples.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0

# step NAME CMD...: runs CMD, shows its output indented, counts the result.
step() {
	name=$1
	shift
	"$@" >"$tmp/log" 2>&1 </dev/null
	rc=$?
	sed 's/^/    /' "$tmp/log"
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: $name -- exit status $rc"
	fi
}

step "keycard check policies/main.kc" "$KEYCARD" check policies/main.kc

set -- policies/tests/*.kct
if [ ! -e "$1" ]; then
	failed=$((failed + 1))
	echo "FAIL: no test files in policies/tests"
else
	step "keycard test policies/tests/*.kct" "$KEYCARD" test "$@"
fi

# The demo's policy (examples/policy) and its tests.
step "keycard check examples/policy/main.kc" "$KEYCARD" check examples/policy/main.kc
set -- examples/policy/tests/*.kct
if [ ! -e "$1" ]; then
	failed=$((failed + 1))
	echo "FAIL: no test files in examples/policy/tests"
else
	step "keycard test examples/policy/tests/*.kct" "$KEYCARD" test "$@"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

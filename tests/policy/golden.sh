#!/bin/sh
# golden.sh: the diagnostics policy authors see, pinned byte for byte
# (STYLE.md §8, policy-language.md §4). For every tests/policy/bad/NAME.kc,
# runs `keycard check tests/policy/bad/NAME.kc` from the source directory
# (so paths print as written there) and compares its stderr with NAME.err:
# file:line:col, the quoted line, the caret, notes, hints and the closing
# summary. The exit status must be 1 when the summary says the policy was
# not loaded, 0 otherwise (a file with warnings only), and stdout empty.
#
# Files under tests/policy/bad/include/ are included by the cases, never
# checked on their own.
#
# Environment: KEYCARD (the keycard binary), KC_SRCDIR (the source tree).
# Prints one line per case, a diff for each mismatch, and "N passed, N failed".
#
# To write the .err files anew after a deliberate change of wording:
#   KEYCARD=_build/keycard tests/policy/golden.sh --update
# then read every changed file with `git diff` before committing it: each
# message must point at the right line and column, with the caret under the
# text to change.
set -u

KEYCARD=${KEYCARD:-./keycard}
SRCDIR=${KC_SRCDIR:-$(dirname "$0")/../..}
update=0
[ "${1:-}" = "--update" ] && update=1

case $KEYCARD in
/*) ;;
*) KEYCARD=$(pwd)/$KEYCARD ;;
esac
if [ ! -x "$KEYCARD" ]; then
	echo "keycard binary not found: $KEYCARD" >&2
	exit 99 # hard error for the automake harness
fi
cd "$SRCDIR" || exit 99

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-golden.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
LC_ALL=C
export LC_ALL

for kc in tests/policy/bad/*.kc; do
	[ -e "$kc" ] || continue
	name=$(basename "$kc" .kc)
	expected=${kc%.kc}.err
	"$KEYCARD" check "$kc" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$update" = 1 ]; then
		cp "$tmp/err" "$expected"
		echo "UPDATED: $name (exit $rc)"
		passed=$((passed + 1))
		continue
	fi
	why=
	if [ ! -f "$expected" ]; then
		why="no $expected (write it with --update, then review it)"
	elif ! cmp -s "$expected" "$tmp/err"; then
		why="stderr differs from $expected"
	else
		want=0
		tail -n 1 "$expected" | grep -q 'policy not loaded$' && want=1
		if [ "$rc" != "$want" ]; then
			why="exit status $rc, expected $want"
		elif [ -s "$tmp/out" ]; then
			why="unexpected output on stdout"
		fi
	fi
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		echo "PASS: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: $name -- $why"
		if [ -f "$expected" ]; then
			diff -u "$expected" "$tmp/err" | sed 's/^/    /'
		fi
		[ -s "$tmp/out" ] && sed 's/^/    stdout: /' "$tmp/out"
	fi
done

if [ $((passed + failed)) = 0 ]; then
	echo "no golden cases found under $SRCDIR/tests/policy/bad" >&2
	exit 99
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

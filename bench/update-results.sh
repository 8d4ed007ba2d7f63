#!/bin/sh
# update-results.sh RESULTS HEADING SECTION: puts the file SECTION (which
# starts with the line HEADING) into RESULTS in place of the section with
# that heading (up to the next "## " heading), or appends it; creates
# RESULTS when it is missing. The other sections are left as they are.
# The run-*.sh scripts call it to record their tables in bench/RESULTS.md.
set -eu
results=$1 heading=$2 section=$3
[ -f "$section" ] || { echo "update-results.sh: $section not found" >&2; exit 2; }
new=$(mktemp "${TMPDIR:-/tmp}/kc-results.XXXXXX")
trap 'rm -f "$new"' EXIT
if [ -f "$results" ]; then
	awk -v heading="$heading" -v section="$section" '
		function put() { while ((getline line < section) > 0) print line; close(section) }
		$0 == heading { put(); done = 1; skip = 1; next }
		skip && /^## / { skip = 0; print "" }
		!skip { print }
		END { if (!done) { print ""; put() } }
	' "$results" >"$new"
else
	{
		echo "# keycard benchmark results"
		echo
		cat "$section"
	} >"$new"
fi
cat "$new" >"$results"

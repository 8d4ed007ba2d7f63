#!/bin/sh
# manpage.sh: guards keycard.kc(5), the page users copy their policies
# from: every example policy in it must compile, and the page must render
# without a warning (jq turns its manual into tests the same way).
#
# An example is the text between the lines '.\" example: begin' and
# '.\" example: end' of man/keycard.kc.5, with roff requests (lines that
# start with '.' or "'") left out and roff escapes undone (\e \- \& \(dq
# ...; any other escape fails the example). An example without a name is a
# policy of its own: it is written alone to a directory and compiled with
# `keycard check`. An example named on its begin line
# ('.\" example: begin resources/devices.kc') is one file of a policy of
# several: all named examples are written to one directory, then every one
# that holds 'keycard 1;' (a main file) is compiled with `keycard check`
# and every .kct file is run with `keycard test`. The files a policy names
# are made first: keys for 'jwks file' (keycard keygen), 'key file' (a PEM
# public key, made with openssl: without it that example is skipped) and
# 'secret file'; empty files for lists, client names and 'declare file'.
# The page is rendered with `groff -man -Tutf8 -ww -z` (skipped without
# groff).
#
# Environment: KEYCARD (the keycard binary), KC_SRCDIR (the source tree).
# Prints one line per check and "N passed, N failed"; exits 1 if any failed.
set -u

KEYCARD=${KEYCARD:-./keycard}
SRC=${KC_SRCDIR:-.}
page=$SRC/man/keycard.kc.5

if [ ! -x "$KEYCARD" ]; then
	echo "keycard binary not found: $KEYCARD" >&2
	exit 99 # hard error for the automake harness
fi
if [ ! -f "$page" ]; then
	echo "man page not found: $page" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kc-test-manpage.XXXXXX") || exit 99
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	[ -s "$tmp/out" ] && sed 's/^/    /' "$tmp/out" | head -n 40
	return 0
}

# ---- extraction ------------------------------------------------------------------
# Writes unnamed example N to $tmp/single/N/example.kc and named ones under
# $tmp/set/; lists them in $tmp/examples as "single|named <TAB> path <TAB> line";
# problems (unknown escape, unbalanced markers, bad name) go to $tmp/errors.
mkdir -p "$tmp/single" "$tmp/set"
: >"$tmp/examples"
: >"$tmp/errors"
awk -v tmp="$tmp" '
	function bad(msg) { print FILENAME ":" FNR ": " msg >> (tmp "/errors") }
	# Undoes the roff escapes an example may hold.
	function unescape(s,    out, i, c, n, name) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c != "\\") { out = out c; continue }
			n = substr(s, ++i, 1)
			if (n == "e" || n == "\\") out = out "\\"
			else if (n == "-") out = out "-"
			else if (n == "&" || n == ")") out = out ""
			else if (n == " ") out = out " "
			else if (n == "(") {
				name = substr(s, i + 1, 2); i += 2
				if (name == "dq") out = out "\""
				else if (name == "aq") out = out "\047"
				else if (name == "ti") out = out "~"
				else if (name == "ha") out = out "^"
				else if (name == "ga") out = out "`"
				else if (name == "rs") out = out "\\"
				else if (name == "em" || name == "en") out = out "-"
				else { bad("unknown roff escape \\(" name " in an example"); out = out "?" }
			} else { bad("unknown roff escape \\" n " in an example"); out = out "?" }
		}
		return out
	}
	/^\.\\" example: begin/ {
		if (file != "") bad("example: begin inside an example")
		name = $0; sub(/^\.\\" example: begin[ \t]*/, "", name); sub(/[ \t]+$/, "", name)
		count++
		if (name == "") {
			dir = tmp "/single/" count
			system("mkdir -p \"" dir "\"")
			file = dir "/example.kc"
			print "single\t" file "\t" FNR >> (tmp "/examples")
		} else {
			if (name !~ /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/ || name ~ /\.\./) {
				bad("bad example file name \"" name "\"")
				name = "bad-name-" count
			}
			if (seen[name]++) bad("two examples are named " name)
			file = tmp "/set/" name
			dir = file; sub(/\/[^\/]*$/, "", dir)
			system("mkdir -p \"" dir "\"")
			print "named\t" file "\t" FNR >> (tmp "/examples")
		}
		printf "" > file
		next
	}
	/^\.\\" example: end/ {
		if (file == "") bad("example: end outside an example")
		else close(file)
		file = ""
		next
	}
	file != "" && /^[.\047]/ { next }
	file != "" { print unescape($0) >> file }
	END { if (file != "") bad("example not ended at the end of the page") }
' "$page"

if [ -s "$tmp/errors" ]; then
	cp "$tmp/errors" "$tmp/out"
	fail "extracting the examples of $page"
fi
n_examples=$(wc -l <"$tmp/examples")
if [ "$n_examples" -eq 0 ]; then
	: >"$tmp/out"
	fail "no example found in $page"
fi

# ---- the files a policy names ---------------------------------------------------------
have_openssl=no
command -v openssl >/dev/null 2>&1 && have_openssl=yes

# make_refs FILE: creates the key and data files FILE names (relative to its
# directory) that do not exist yet. Returns 2 when a key cannot be made here.
make_refs() {
	dir=$(dirname "$1")
	grep -oE '(jwks|key|secret|clients|declare|string|cidr)[[:space:]]+file[[:space:]]+"[^"]*"' "$1" |
		sed 's/^\([a-z]*\)[[:space:]]*file[[:space:]]*"\(.*\)"$/\1 \2/' >"$tmp/refs"
	status=0
	while read -r kind ref; do
		case $ref in /* | *..*) continue ;; esac
		target=$dir/$ref
		[ -e "$target" ] && continue
		mkdir -p "$(dirname "$target")"
		case $kind in
		jwks)
			"$KEYCARD" keygen --alg ES256 --public "$target" >/dev/null 2>"$tmp/out" || status=1
			;;
		key)
			if [ "$have_openssl" = yes ]; then
				openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
					openssl pkey -pubout -out "$target" 2>"$tmp/out" || status=1
			else
				status=2
			fi
			;;
		secret)
			head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$target"
			;;
		*)
			: >"$target"
			;;
		esac
	done <"$tmp/refs"
	return $status
}

# check_one LABEL FILE: keycard check, or keycard test for a .kct file.
check_one() {
	cmd="check"
	case $2 in *.kct) cmd="test" ;; esac
	if (cd "$(dirname "$2")" && "$KEYCARD" "$cmd" "$(basename "$2")") >"$tmp/out" 2>&1; then
		pass "$1"
	else
		fail "$1"
	fi
}

# ---- the examples --------------------------------------------------------------------
tab=$(printf '\t')
while IFS=$tab read -r kind file line; do
	[ "$kind" = single ] || continue
	label="example at keycard.kc.5:$line compiles"
	make_refs "$file"
	case $? in
	0) check_one "$label" "$file" ;;
	2) echo "SKIP: $label (openssl is needed to make its PEM key)" ;;
	*) fail "$label (cannot make the files it names)" ;;
	esac
done <"$tmp/examples"

set_ok=yes
while IFS=$tab read -r kind file line; do
	[ "$kind" = named ] || continue
	case $file in *.kc) ;; *) continue ;; esac
	make_refs "$file"
	case $? in
	0) ;;
	2) set_ok=skip ;;
	*) set_ok=no ;;
	esac
done <"$tmp/examples"
while IFS=$tab read -r kind file line; do
	[ "$kind" = named ] || continue
	name=${file#"$tmp/set/"}
	case $name in
	*.kct) label="example $name (keycard.kc.5:$line) passes keycard test" ;;
	*.kc)
		grep -qE '^[[:space:]]*keycard[[:space:]]+1[[:space:]]*;' "$file" || continue
		label="example $name (keycard.kc.5:$line) compiles with its includes"
		;;
	*) continue ;;
	esac
	case $set_ok in
	yes) check_one "$label" "$file" ;;
	skip) echo "SKIP: $label (openssl is needed to make a PEM key)" ;;
	*) : >"$tmp/out"; fail "$label (cannot make the files the policy names)" ;;
	esac
done <"$tmp/examples"

# ---- the page renders cleanly ------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
	if groff -man -Tutf8 -ww -z "$page" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
		pass "keycard.kc.5 renders without warnings"
	else
		fail "keycard.kc.5 renders without warnings"
	fi
else
	echo "SKIP: groff not found: the page is not rendered"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# bodysum.sh: reads the whole request body and prints "LENGTH SHA256" (tests:
# large bodies arrive intact where the server cannot stream a reply while it
# still sends the body, as with Apache's mod_cgi/mod_cgid).
printf 'Content-Type: text/plain\r\n\r\n'
tmp=$(mktemp) || exit 1
cat >"$tmp"
printf '%s %s\n' "$(wc -c <"$tmp" | tr -d ' ')" "$(sha256sum <"$tmp" | cut -d' ' -f1)"
rm -f "$tmp"

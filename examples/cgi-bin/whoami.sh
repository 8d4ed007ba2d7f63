#!/bin/sh
# whoami.sh: a legacy CGI program in sh that prints the identity it was given.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'lang=sh\n'
for v in REMOTE_USER AUTH_TYPE KEYCARD_SUBJECT KEYCARD_ISSUER KEYCARD_CLIENT_ID \
	KEYCARD_CLIENT_NAME KEYCARD_SCOPES KEYCARD_RULE; do
	eval "val=\${$v-}"
	# shellcheck disable=SC2154
	printf '%s=%s\n' "$v" "$val"
done

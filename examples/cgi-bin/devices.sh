#!/bin/sh
# devices.sh: the demo's legacy device API, a CGI program that knows nothing
# of OAuth. keycard has already decided; the program just reads who is asking
# from the environment (REMOTE_USER, KEYCARD_*) and answers.
# A CGI program reads the whole body it was sent (servers may fail the
# request if it does not).
body=
if [ "${CONTENT_LENGTH:-0}" -gt 0 ] 2>/dev/null; then
	body=$(head -c "$CONTENT_LENGTH" | tr -cd '[:alnum:]=&._-' | head -c 200)
fi
printf 'Content-Type: text/plain\r\n\r\n'
printf '%s %s\n' "${REQUEST_METHOD:-GET}" "${PATH_INFO:-/}"
printf 'hello %s (client %s, via %s)\n' "${REMOTE_USER:-nobody}" \
	"${KEYCARD_CLIENT_NAME:-${KEYCARD_CLIENT_ID:-?}}" "${AUTH_TYPE:-no auth}"
printf 'scopes: %s\n' "${KEYCARD_SCOPES:-}"
printf 'devices you may read: %s\n' "${KEYCARD_DEVICES_READ:-}"
case ${REQUEST_METHOD:-GET} in
POST) printf 'command "%s" accepted for %s\n' "$body" "${PATH_INFO:-/}" ;;
esac

#!/bin/bash
# lighttpd-gateway.sh: guards keycard-fcgi as the CGI GATEWAY (FastCGI
# responder that runs the script itself) behind a real lighttpd
# (examples/lighttpd/gateway.conf.in): the status table, the environment the
# programs see (identity present; forged X-Keycard-*/identity headers, Proxy
# and Authorization absent), a 10 MB POST echoed intact, a slow script
# stopped with 504, and a script outside the CGI root refused.
# Exit 77 (skip) when lighttpd, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog lighttpd
e2e_init

PORT=$(free_port)
render "$EXAMPLES/lighttpd/gateway.conf.in" "$RUN/lighttpd.conf"
"$(prog_path lighttpd)" -tt -f "$RUN/lighttpd.conf" >"$RUN/check.log" 2>&1 ||
	{ cat "$RUN/check.log" >&2; echo "lighttpd rejected the config" >&2; exit 99; }
start_bg "$RUN/server.log" "$(prog_path lighttpd)" -D -f "$RUN/lighttpd.conf"
SERVER_PID=$BG_PID
wait_port "$PORT" "$SERVER_PID" || exit 99
BASE=http://127.0.0.1:$PORT
wait_ready "$BASE/api/devices/123"

status_table_cases keycard
identity_cases gateway
big_post_case
slow_case 504
# lighttpd started keycard-fcgi (bin-path): SIGHUP goes to that child.
KC_PID=$(child_of "$SERVER_PID" keycard-fcgi)
reload_case
case_status "a script that does not exist is 404, never 200 from nothing" \
	'404' "" -H "$(bearer "$TOK_ALICE")" "$BASE/cgi-bin/missing.sh"

stop_pid "$SERVER_PID"
log_cases "$RUN/server.log"   # lighttpd hands keycard-fcgi its own stderr
finish

#!/bin/bash
# lighttpd-authorizer.sh: guards keycard-fcgi as a FastCGI AUTHORIZER behind a
# real lighttpd (examples/lighttpd/authorizer.conf.in, mod_cgi runs the app):
# every row of ARCHITECTURE.md's status table with its WWW-Authenticate, the
# identity the CGI programs (sh, Perl, Python) receive, and that forged
# identity headers, Proxy and the token never reach them (keycard-strip.lua),
# a silent program stopped by lighttpd (504), and SIGHUP under load.
# Exit 77 (skip) when lighttpd (with mod_magnet), curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog lighttpd
need_lighttpd_module magnet lighttpd-modules-lua
e2e_init

PORT=$(free_port)
render "$EXAMPLES/lighttpd/authorizer.conf.in" "$RUN/lighttpd.conf"
"$(prog_path lighttpd)" -tt -f "$RUN/lighttpd.conf" >"$RUN/check.log" 2>&1 ||
	{ cat "$RUN/check.log" >&2; echo "lighttpd rejected the config" >&2; exit 99; }
start_bg "$RUN/server.log" "$(prog_path lighttpd)" -D -f "$RUN/lighttpd.conf"
SERVER_PID=$BG_PID
wait_port "$PORT" "$SERVER_PID" || exit 99
BASE=http://127.0.0.1:$PORT
wait_ready "$BASE/api/devices/123"

status_table_cases keycard
identity_cases authorizer
slow_case 504
# lighttpd started keycard-fcgi (bin-path): SIGHUP goes to that child.
KC_PID=$(child_of "$SERVER_PID" keycard-fcgi)
reload_case

stop_pid "$SERVER_PID"
log_cases "$RUN/server.log"   # lighttpd hands keycard-fcgi its own stderr
finish

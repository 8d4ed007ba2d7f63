#!/bin/bash
# nginx-gateway.sh: guards keycard-fcgi as the CGI gateway behind a real nginx
# (examples/nginx/gateway.conf.in, no fcgiwrap): the status table, the
# environment the programs see (forged headers, Proxy and Authorization
# absent), a 10 MB POST arriving intact, a slow script stopped with 504, and a
# policy reload (SIGHUP) under load that loses no request.
# Exit 77 (skip) when nginx, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog nginx setpriv
e2e_init

start_keycard_unix --cgi-root "$CGI_BIN" --cgi-timeout 2000
start_nginx "$EXAMPLES/nginx/gateway.conf.in"
wait_ready "$BASE/api/devices/123"

status_table_cases nginx
identity_cases gateway
big_post_case       # output is held back until the body is in (fcgi.c), so nginx echoes too
big_post_sum_case
slow_case 504
reload_case

stop_pid "$SERVER_PID"
stop_pid "$KC_PID"
log_cases "$RUN/logs/keycard.log"
finish

#!/bin/bash
# apache-proxy-fcgi.sh: guards keycard-fcgi as the CGI gateway behind a real
# Apache httpd through mod_proxy_fcgi (examples/apache/proxy-fcgi.conf.in):
# the status table, the environment the programs see (forged headers, Proxy
# and Authorization absent), a 10 MB POST echoed intact, a slow script
# stopped with 504, and a policy reload (SIGHUP) under load.
# Exit 77 (skip) when apache2, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog apache2 setpriv
e2e_init

start_keycard_tcp --cgi-root "$CGI_BIN" --cgi-timeout 2000
start_apache "$EXAMPLES/apache/proxy-fcgi.conf.in"
wait_ready "$BASE/api/devices/123"

status_table_cases apache
identity_cases gateway
big_post_case
slow_case 504
reload_case

stop_pid "$SERVER_PID"
stop_pid "$KC_PID"
log_cases "$RUN/logs/keycard.log"
finish

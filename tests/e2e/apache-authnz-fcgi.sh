#!/bin/bash
# apache-authnz-fcgi.sh: guards keycard-fcgi as a FastCGI authorizer behind a
# real Apache httpd through mod_authnz_fcgi (examples/apache/authnz-fcgi.conf.in,
# check_user_id mode, TCP; mod_cgid runs the programs): the status table with
# keycard's own statuses and WWW-Authenticate relayed, REMOTE_USER set from
# keycard's answer, and the identity the sh, Perl and Python programs see
# (keycard-strip.lua, mod_lua, removes the token and forged headers), a
# silent program stopped by CGIDScriptTimeout (504), and SIGHUP under load.
# Exit 77 (skip) when apache2, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog apache2 setpriv
e2e_init

# shellcheck disable=SC2119 # (no extra options)
start_keycard_tcp
start_apache "$EXAMPLES/apache/authnz-fcgi.conf.in"
wait_ready "$BASE/api/devices/123"

status_table_cases apache
identity_cases authorizer
slow_case 504
reload_case

stop_pid "$SERVER_PID"
stop_pid "$KC_PID"
log_cases "$RUN/logs/keycard.log"
finish

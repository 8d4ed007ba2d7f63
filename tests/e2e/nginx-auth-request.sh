#!/bin/bash
# nginx-auth-request.sh: guards keycard-fcgi in KEYCARD_MODE=authorize behind
# a real nginx auth_request, with fcgiwrap running the programs
# (examples/nginx/auth-request.conf.in): 200/401/403 only (nginx makes
# anything else a 500), WWW-Authenticate relayed on 401, the identity carried
# by Variable-* headers into the programs' environment, and no forged header,
# Proxy or Authorization reaching them; SIGHUP under load; a slow program
# stopped by nginx (504).
# Exit 77 (skip) when nginx, fcgiwrap, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog nginx fcgiwrap setpriv
e2e_init

# shellcheck disable=SC2119 # (no extra options)
start_keycard_unix
run_as_user
start_bg "$RUN/logs/fcgiwrap.log" "${RUN_AS[@]+"${RUN_AS[@]}"}" \
	"$(prog_path fcgiwrap)" -s "unix:$RUN/fcgiwrap.sock"
WRAP_PID=$BG_PID
wait_socket "$RUN/fcgiwrap.sock" "$WRAP_PID" || exit 99
start_nginx "$EXAMPLES/nginx/auth-request.conf.in"
wait_ready "$BASE/api/devices/123"

status_table_cases nginx-auth
# nginx passes only the headers the config lists: the policy's header
# export (X-Demo-User) is not wired into this example config.
# shellcheck disable=SC2034 # read by lib.sh
E2E_NO_HEADER_EXPORT=1
identity_cases gateway
reload_case
# fcgiwrap has no timeout; nginx's fastcgi_read_timeout (3 s) answers 504
# (last: the one fcgiwrap process stays busy with the script after that).
slow_case 504

stop_pid "$SERVER_PID"
stop_pid "$WRAP_PID"
stop_pid "$KC_PID"
log_cases "$RUN/logs/keycard.log"
finish

#!/bin/bash
# apache-action-cgi.sh: guards keycard-fcgi as a plain CGI wrapper behind a
# real Apache httpd (examples/apache/action-cgi.conf.in: Action runs
# keycard-fcgi, which runs PATH_TRANSLATED): the status table, the
# environment the programs see (forged headers, Proxy and Authorization
# absent), a 10 MB POST arriving intact, a slow program stopped (504) and
# keycard's own failure answered 503, never 401.
# Exit 77 (skip) when apache2, curl or keycard-fcgi is missing.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
need_prog apache2
e2e_init

start_apache "$EXAMPLES/apache/action-cgi.conf.in"
wait_ready "$BASE/api/devices/123"

status_table_cases apache
identity_cases gateway
big_post_sum_case   # mod_cgid writes the whole body before it reads: no echo
slow_case 504
unavailable_case

stop_pid "$SERVER_PID"
log_cases "$RUN/error.log"
finish

#!/bin/sh
# slow.sh: answers after QUERY_STRING seconds (default 30; tests: timeouts).
secs=${QUERY_STRING:-30}
case $secs in '' | *[!0-9]*) secs=30 ;; esac
sleep "$secs"
printf 'Content-Type: text/plain\r\n\r\nslept %s s\n' "$secs"

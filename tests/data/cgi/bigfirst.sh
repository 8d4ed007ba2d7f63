#!/bin/sh
# bigfirst.sh: writes 1 MiB of zeros before it reads any of its body, then
# prints how many body bytes it read. A gateway that writes the whole body
# before reading output deadlocks here (test_cgi.c).
printf 'Content-Type: application/octet-stream\n\n'
head -c 1048576 /dev/zero
wc -c

#!/bin/sh
# cat.sh: echoes the request body back (test_cgi.c: 10 MB round trip).
printf 'Content-Type: application/octet-stream\r\n\r\n'
exec cat

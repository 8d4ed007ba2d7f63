#!/bin/sh
# echo.sh: sends the request body back unchanged (tests: large bodies stream
# through without loss or deadlock).
printf 'Content-Type: application/octet-stream\r\n\r\n'
exec cat

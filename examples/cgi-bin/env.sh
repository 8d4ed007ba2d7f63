#!/bin/sh
# env.sh: prints the whole CGI environment, sorted, one NAME=value a line
# (tests check what reached the program and what must not have).
printf 'Content-Type: text/plain\r\n\r\n'
env | LC_ALL=C sort

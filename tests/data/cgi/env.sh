#!/bin/sh
# env.sh: prints how it was started: its argument count, its working
# directory and the environment it was given (test_cgi.c).
printf 'Content-Type: text/plain\n\n'
printf 'argc=%s\n' "$#"
printf 'pwd=%s\n' "$(pwd -P)"
env

#!/bin/sh
# respond.sh: answers the way test_cgi.c asks through its environment,
# without reading stdin:
#   CGI_CLOSE_STDIN  if set, close stdin first (its writer then sees EPIPE)
#   CGI_STDERR  text (printf %b escapes) written to stderr first
#   CGI_HEAD    text (printf %b) written to stdout: the header block or not
#   CGI_PAUSE   seconds to wait before CGI_HEAD2 (a header split across reads)
#   CGI_HEAD2   more text (printf %b) for stdout
#   CGI_SLEEP   seconds to sleep at the end, in a background child that
#               holds stdout open too (its pid goes to stderr as "sleeper=N")
#   CGI_LINGER  with CGI_SLEEP: the sleeper holds no output, and the script
#               closes stdout and stderr before it waits for it
#   CGI_SIGNAL  a signal the script sends itself at the end
#   CGI_EXIT    its exit status (default 0)
[ -n "$CGI_CLOSE_STDIN" ] && exec 0<&-
[ -n "$CGI_STDERR" ] && printf '%b' "$CGI_STDERR" >&2
[ -n "$CGI_HEAD" ] && printf '%b' "$CGI_HEAD"
[ -n "$CGI_PAUSE" ] && sleep "$CGI_PAUSE"
[ -n "$CGI_HEAD2" ] && printf '%b' "$CGI_HEAD2"
if [ -n "$CGI_SLEEP" ] && [ -n "$CGI_LINGER" ]; then
	# the sleeper holds neither stdout nor stderr, and the script closes
	# both: output is over, but the script has not exited
	sleep "$CGI_SLEEP" >/dev/null 2>&1 &
	echo "sleeper=$!" >&2
	exec >&- 2>&-
	wait
elif [ -n "$CGI_SLEEP" ]; then
	sleep "$CGI_SLEEP" &
	echo "sleeper=$!" >&2
	wait
fi
if [ -n "$CGI_SIGNAL" ]; then
	ulimit -c 0
	kill -s "$CGI_SIGNAL" $$
fi
exit "${CGI_EXIT:-0}"

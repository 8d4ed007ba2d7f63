# shellcheck shell=bash disable=SC2034
# lib.sh: helpers of bench/run-http.sh (source it; do not run it). Adapted
# from the project's performance anchors: config rendering, servers started
# and stopped by PID, and `bench`, the wrk runner (median of WRK_RUNS runs).
# Needs: RUN (scratch directory), RES (raw outputs), HTTP (this directory).

# ---------------------------------------------------------------- rendering
# render TEMPLATE OUTPUT: replaces @NAME@ by the value of the shell variable
# NAME for every NAME in RENDER_VARS; fails on a placeholder left over.
RENDER_VARS="RUN DOCROOT CGIDIR TOKENS PORT PORT_LIGHTTPD PORT_NGINX PORT_APACHE
 PORT_ALLOW_TCP PORT_KC_TCP SOCK FCGIWRAP_SOCK KCGW_SOCK APACHE_MODDIR
 NGINX_FASTCGI_PARAMS RUN_USER RUN_GROUP JWK_ESCAPED NAME"
render() {
	local in=$1 out=$2 v val args=()
	for v in $RENDER_VARS; do
		val=${!v-}
		val=${val//\\/\\\\}; val=${val//&/\\&}; val=${val//|/\\|}
		args+=(-e "s|@$v@|$val|g")
	done
	sed "${args[@]}" "$in" >"$out"
	if grep -n '@[A-Z_][A-Z_]*@' "$out" >&2; then
		echo "render: unreplaced placeholder in $out" >&2
		return 1
	fi
}

# ---------------------------------------------------------------- processes
# Only the processes these scripts started are ever stopped, by the PIDs in
# their pid files (libfcgi programs ignore SIGTERM while blocked in accept:
# SIGKILL after 3 s).
STARTED_PIDFILES=()
track_pidfile() { STARTED_PIDFILES+=("$1"); }

stop_pidfile() {
	local f=$1 p i
	[ -s "$f" ] || { rm -f "$f"; return 0; }
	for p in $(cat "$f"); do
		kill -0 "$p" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null || true
		for i in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
	done
	rm -f "$f"
}

stop_all() {
	local f
	for f in "${STARTED_PIDFILES[@]+"${STARTED_PIDFILES[@]}"}"; do stop_pidfile "$f"; done
	STARTED_PIDFILES=()
}

# run_bg PIDFILE CMD...: starts CMD (which stays in the foreground) in the
# background, its output in PIDFILE with .log for .pid.
run_bg() {
	local pidfile=$1
	shift
	"$@" >>"${pidfile%.pid}.log" 2>&1 </dev/null &
	echo $! >"$pidfile"
	track_pidfile "$pidfile"
}

wait_port() {
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "port $1 did not open" >&2
	return 1
}

wait_file() {
	local i
	for i in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.05; done
	echo "$1 did not appear" >&2
	return 1
}

# spawn_unix PIDFILE SOCKET N PROGRAM [ARGS...]: N processes of a FastCGI
# program on a unix socket (spawn-fcgi forks them; output discarded).
spawn_unix() {
	local pidfile=$1 sock=$2 n=$3
	shift 3
	rm -f "$sock"
	spawn-fcgi -s "$sock" -M 0660 -U "$RUN_USER" -G "$RUN_GROUP" -u "$RUN_USER" \
		-g "$RUN_GROUP" -F "$n" -P "$pidfile" -- "$@" >/dev/null
	track_pidfile "$pidfile"
	wait_file "$sock"
}

# spawn_tcp PIDFILE PORT N PROGRAM [ARGS...]: the same on 127.0.0.1:PORT.
spawn_tcp() {
	local pidfile=$1 port=$2 n=$3
	shift 3
	spawn-fcgi -a 127.0.0.1 -p "$port" -u "$RUN_USER" -g "$RUN_GROUP" -F "$n" \
		-P "$pidfile" -- "$@" >/dev/null
	track_pidfile "$pidfile"
	wait_port "$port"
}

# spawn_kc PIDFILE unix:SOCKET|tcp:PORT KEYCARD-ARGS...: one keycard-fcgi
# process on the socket spawn-fcgi makes (spawn-fcgi -n execs it in place, so
# the PID is keycard's and its stderr, the decision log, goes to the .log).
spawn_kc() {
	local pidfile=$1 where=$2 a=()
	shift 2
	case $where in
	unix:*) rm -f "${where#unix:}"
		a=(-s "${where#unix:}" -M 0660 -U "$RUN_USER" -G "$RUN_GROUP") ;;
	tcp:*) a=(-a 127.0.0.1 -p "${where#tcp:}") ;;
	esac
	run_bg "$pidfile" spawn-fcgi -n "${a[@]}" -u "$RUN_USER" -g "$RUN_GROUP" -- "$KC_FCGI" "$@"
	case $where in
	unix:*) wait_file "${where#unix:}" ;;
	tcp:*) wait_port "${where#tcp:}" ;;
	esac
}

# ---------------------------------------------------------------- checks
# expect_status CODE URL [curl args...]: one request; fails if the status differs.
expect_status() {
	local want=$1 url=$2 got
	shift 2
	got=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url" || true)
	if [ "$got" != "$want" ]; then
		echo "CHECK FAILED: $url -> $got (want $want)" >&2
		curl -s -i "$@" "$url" 2>&1 | head -20 >&2 || true
		return 1
	fi
	echo "check ok: $url -> $got"
}

# ---------------------------------------------------------------- noise record
# Foreign CPU: CPU time of every process outside this script's session and
# the sessions of the processes it started, as a share of the whole machine
# during a run. Recorded; before each run wait_quiet waits a few seconds at
# most for it to drop (the batch must stay bounded).
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
my_sids() {
	local f p
	awk '{ sub(/^.*\) /, ""); print $4 }' "/proc/$BASHPID/stat"
	for f in "${STARTED_PIDFILES[@]+"${STARTED_PIDFILES[@]}"}"; do
		[ -s "$f" ] || continue
		for p in $(cat "$f"); do
			awk '{ sub(/^.*\) /, ""); print $4 }' "/proc/$p/stat" 2>/dev/null || true
		done
	done | sort -u
}
foreign_ticks() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v mine=" $1 " '
		{ pid = $1; sub(/^.*\) /, "");
		  if (pid == 1 || $4 == 0) next
		  if (index(mine, " " $4 " ")) next
		  t += $12 + $13 + $14 + $15 }
		END { printf "%d\n", t }'
}
# wait_quiet: before a run, wait (at most QUIET_MAX s) until foreign
# processes use at most QUIET_PCT % of the machine; never blocks longer.
QUIET_PCT=${QUIET_PCT:-10}
QUIET_MAX=${QUIET_MAX:-4}
wait_quiet() {
	local sids t0 t1 i
	sids=$(my_sids | tr '\n' ' ')
	for i in $(seq 1 $((QUIET_MAX * 2))); do
		t0=$(foreign_ticks "$sids"); sleep 0.5; t1=$(foreign_ticks "$sids")
		awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="$NCPU" -v q="$QUIET_PCT" \
			'BEGIN { exit !(100 * (b - a) / (hz * 0.5 * n) <= q) }' && return 0
	done
	return 0
}
# pids_ticks PID...: utime+stime of these processes (all their threads).
pids_ticks() {
	local p t=0 x
	for p in "$@"; do
		x=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + ${x:-0}))
	done
	echo "$t"
}

# ---------------------------------------------------------------- benchmark
# bench LABEL PIDS URL [TOKENFILE]: one unrecorded warm-up, then WRK_RUNS
# runs of wrk -t$WRK_THREADS -c$CONNS -d$WRK_DURATION, every one with
# bench/http/bearer.lua and TOKENFILE (default: the one good token), so the
# client does the same work in every row. PIDS (or "-"): the FastCGI
# program's processes, comma-separated, whose own CPU time per request is
# recorded (children they fork and reap, the CGI programs, not included);
# when the first is keycard-fcgi, its cache hits and misses too.
# Appends to $RES/http.tsv: label, median req/s, min, max, runs, p50 ms,
# p99 ms, non-2xx share, socket errors, foreign CPU % (max), FastCGI program
# CPU µs/request, keycard cache hits, misses.
bench() {
	local i
	bench_start "$@"
	for i in $(seq 1 "$WRK_RUNS"); do bench_run "$1" "$i"; done
	bench_end "$1"
}

# bench_interleaved "LABEL PIDS URL [TOKENFILE]"...: the rows of a
# comparison measured run by run in turn (A1 B1 C1 A2 B2 ...), so that a
# drift of the machine during the batch falls on every row alike and the
# ratios between them stay fair.
bench_interleaved() {
	local row i
	for row in "$@"; do
		# shellcheck disable=SC2086 # (the row is its arguments)
		bench_start $row
	done
	for i in $(seq 1 "$WRK_RUNS"); do
		for row in "$@"; do bench_run "${row%% *}" "$i"; done
	done
	for row in "$@"; do bench_end "${row%% *}"; done
}

# The state of a row between bench_start, bench_run and bench_end.
declare -A B_PIDS B_URL B_TOKF B_KCPID B_LINES B_TICKS B_REQ B_HITS B_MISSES

bench_start() {
	local label=$1 pids=${2//,/ } url=$3 tokf=${4:-$TOKENS/good.txt}
	B_PIDS[$label]=$pids; B_URL[$label]=$url; B_TOKF[$label]=$tokf; B_KCPID[$label]=-
	[ "$pids" != - ] && [ -n "${KC_LOG[${pids%% *}]-}" ] && B_KCPID[$label]=${pids%% *}
	B_LINES[$label]=""; B_TICKS[$label]=0; B_REQ[$label]=0; B_HITS[$label]=0; B_MISSES[$label]=0
	mkdir -p "$RES/raw"
	[ -s "$RES/http.tsv" ] || printf 'label\tmedian_rps\tmin_rps\tmax_rps\truns_rps\tp50_ms\tp99_ms\tnon2xx_frac\tsock_errors\tforeign_cpu_pct\tfcgi_cpu_us_per_req\tkc_cache_hits\tkc_cache_misses\n' >"$RES/http.tsv"
	wrk -t"$WRK_THREADS" -c"$CONNS" -s "$HTTP/bearer.lua" -d"$WRK_WARMUP" "$url" -- \
		"$tokf" "$WRK_THREADS" >/dev/null 2>&1 || true
}

bench_run() {
	local label=$1 i=$2 pids=${B_PIDS[$1]} kcpid=${B_KCPID[$1]} secs=${WRK_DURATION%s}
	local f=$RES/raw/${1}_run$2.txt sids t0 t1 k0 k1 fp h0 m0 h1 m1
	wait_quiet
	[ "$kcpid" != - ] && kc_cache_stats "$kcpid" && read -r h0 m0 <<<"$KC_STATS"
	sids=$(my_sids | tr '\n' ' ')
	t0=$(foreign_ticks "$sids")
	k0=0; [ "$pids" != - ] && k0=$(pids_ticks $pids)
	wrk -t"$WRK_THREADS" -c"$CONNS" -s "$HTTP/bearer.lua" -d"$WRK_DURATION" --latency \
		"${B_URL[$label]}" -- "${B_TOKF[$label]}" "$WRK_THREADS" >"$f" 2>&1 || true
	k1=0; [ "$pids" != - ] && k1=$(pids_ticks $pids)
	t1=$(foreign_ticks "$sids")
	if [ "$kcpid" != - ] && kc_cache_stats "$kcpid"; then
		read -r h1 m1 <<<"$KC_STATS"
		B_HITS[$label]=$((B_HITS[$label] + h1 - ${h0:-h1}))
		B_MISSES[$label]=$((B_MISSES[$label] + m1 - ${m0:-m1}))
	fi
	fp=$(awk -v a="$t0" -v b="$t1" -v s="$secs" -v hz="$CLK_TCK" -v n="$NCPU" \
		'BEGIN { d = b - a; if (d < 0) d = 0; printf "%.1f", 100 * d / (hz * s * n) }')
	echo "foreign_cpu_pct: $fp" >>"$f"
	B_TICKS[$label]=$((B_TICKS[$label] + k1 - k0))
	B_REQ[$label]=$((B_REQ[$label] + $(awk '/requests in/ { print $1; exit }' "$f" || echo 0)))
	B_LINES[$label]+="$(awk -v run="$i" -v fp="$fp" '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/requests in/ { total = $1 }
		/Requests\/sec:/ { rps = $2 }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		/Non-2xx or 3xx responses:/ { non = $NF }
		/Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
		END { if (rps == "") rps = 0; printf "%s %s %.3f %.3f %.4f %d %s\n", run, rps, p50, p99, (total > 0 ? non / total : 0), err, fp }' "$f")"$'\n'
}

bench_end() {
	local label=$1 kcus=- h=- m=-
	[ "${B_PIDS[$label]}" != - ] &&
		kcus=$(awk -v t="${B_TICKS[$label]}" -v n="${B_REQ[$label]}" -v hz="$CLK_TCK" 'BEGIN { printf "%.1f", (n > 0 ? 1e6 * t / hz / n : 0) }')
	if [ "${B_KCPID[$label]}" != - ]; then h=${B_HITS[$label]}; m=${B_MISSES[$label]}; fi
	echo -n "${B_LINES[$label]}" | sort -k2,2g | awk -v label="$label" -v kcus="$kcus" -v h="$h" -v m="$m" '
		{ r[NR] = $2; p50[NR] = $3; p99[NR] = $4; non[NR] = $5; err += $6; if ($7 > fpmax) fpmax = $7
		  all = all (NR > 1 ? "," : "") sprintf("%.0f", $2) }
		END { k = int((NR + 1) / 2)
		      printf "%s\t%.0f\t%.0f\t%.0f\t%s\t%.3f\t%.3f\t%.4f\t%d\t%.1f\t%s\t%s\t%s\n", label, r[k], r[1], r[NR], all, p50[k], p99[k], non[k], err, fpmax + 0, kcus, h, m }' |
		tee -a "$RES/http.tsv"
}

# kc_cache_stats PID: SIGUSR1 makes keycard-fcgi log its cache counters;
# sets KC_STATS="hits misses" from the newest such line of its log.
kc_cache_stats() {
	local pid=$1 log n i line
	log=$(kc_log_of "$pid")
	n=$(grep -c 'cache hits=' "$log" 2>/dev/null || true)
	kill -USR1 "$pid" 2>/dev/null || return 1
	for i in $(seq 1 40); do
		[ "$(grep -c 'cache hits=' "$log" 2>/dev/null || true)" -gt "${n:-0}" ] && break
		sleep 0.05
	done
	line=$(grep 'cache hits=' "$log" | tail -n 1)
	KC_STATS="$(sed -n 's/.*hits=\([0-9]*\).*/\1/p' <<<"$line") $(sed -n 's/.*misses=\([0-9]*\).*/\1/p' <<<"$line")"
	[ "$KC_STATS" != " " ]
}

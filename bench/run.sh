#!/bin/bash
# The redirect benchmark, run by `make bench`; never part of `make check`.
#
# Builds shortd, fills a database with N links, and measures interleaved
# rounds (A, B, C, then B, C, A, and so on: each round turns the order) of:
#   A  shortd serving the N codes in random order, clicks counted;
#   A0 the same with --link-cache 0: every redirect reads SQLite;
#   B  nginx with a `map` of the same N codes and `return 302`;
#   C  bench/mhd302.c: libmicrohttpd answering one prebuilt 302;
#   P  another shortd binary ($PREV, e.g. built from the commit before), on
#      its own copy of the links at its own schema (prev_db), for
#      a change measured against its parent in the same interleaved rounds.
# For each thread count T of THREADS (one row per count): every server runs
# T threads (shortd --threads T, nginx T workers, mhd302 a pool of T) on CPUs
# 0..T-1 and the load generator on the CPUs left (one thread per CPU, at most
# 8); where T leaves no CPU free they share the last one, and the table says
# so. Keep-alive mode uses h2load (64 connections); new-connection mode uses
# wrk with `Connection: close`; paced new-connection mode (closepaced) has
# bench/paced_close.c open RATE_CLOSE new connections a second on an even
# schedule whatever the server answers, one request each, walking the
# codes, so every server is measured at the same offered rate (for
# p50/p99, from connect() to the server's close; beside the median of the
# rounds' p99s it prints the p99 of all rounds' requests pooled, which a
# round the machine was busy in moves less). For shortd the "clicks
# us" column is the click writer's thread (shortd-clicks) alone, its CPU
# over the requests: the rest is the HTTP threads' and the kernel's. The
# "wait us" column is how long the server's threads, the click writer left
# out, waited for a CPU while runnable (schedstat's run_delay) over the
# requests: the cost to the redirects of other work on their CPU. The
# "user us" column is the server's user-space CPU over the requests, its
# own code and its libraries' without the kernel's share, which is most of
# a new connection's cost and moves the most between rounds. Read
# server CPU per request (the server's user + system time over the
# requests answered) rather than requests/s where the load generator, not
# the server, is the limit (one wrk thread on a 2-core machine). Under each
# mode's ratios, A's CPU a request over C's (and over P's) round by round:
# the ratio of the medians hides how many rounds fall on either side of a
# target, and C's own CPU moves by 10-20% with the machine's state. Then:
# links at 10,000 vs 1,000,000, start-up and RSS
# with 1,000,000 links, heap allocations per redirect (bench/malloc_count.c)
# and link creation through the API. Prints one table; raw rows go to
# bench/out/results.tsv.
#
# h2load -i hands every connection the same list in the same order: in 10 s
# the 64 connections walk the first ~20,000 codes of the shuffled list, each
# asked 64 times a few ms apart. That favours any cache, so A0 is measured
# beside A: shortd with its caches off, every redirect read from SQLite.
#
# Knobs (environment): N=100000 ROUNDS=3 DURATION=10 BUILD=build THREADS="1"
# (a list, e.g. "1 2 4 8") PREV= (a shortd binary: adds server P)
# SHORTD= (a built shortd: nothing is built, $OUT/mhd302 and
# $OUT/paced_close must exist; bench/device.sh) RESULTS=$OUT/results.tsv
# MODES="keepalive close paced" RATE=64000 (paced: h2load --rps, 64 connections
# sharing RATE requests/s) RATE_CLOSE=5000 (closepaced: new connections a
# second; not in MODES unless named) SERVERS="A A0 B C"
# EXTRAS=1 (0 skips the extra runs)
# NICE="nice -n -10" (empty: run at normal priority).
# SHORTD_FLAGS= (more options for every shortd server, A, A0 and P alike;
# e.g. "--access-log /tmp/access.log")
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
PREV=${PREV:-}
MODES=${MODES:-keepalive close paced}
RATE=${RATE:-64000}
RATE_CLOSE=${RATE_CLOSE:-5000}
SERVERS=${SERVERS:-A A0 B C}
EXTRAS=${EXTRAS:-1}
BIG=${BIG:-1000000}
SMALL=${SMALL:-10000}
NCPU=$(nproc)
T=${THREADS%% *} # the thread count being measured (set_cpus)
SCPU=0
LCPU=1
LTHREADS=1
SHARED=
PORT=18480
SHORTD_FLAGS=${SHORTD_FLAGS:-}
NICE=${NICE-nice -n -10} # other work on the machine disturbs less (needs root; else a warning)
TOKEN=bench-admin-token-0123456789abcdef
export SHORTD_ADMIN_TOKEN=$TOKEN

BENCH=bench
. bench/common.sh
out_dir bench/out
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS=${RESULTS:-$OUT/results.tsv}
: >"$RESULTS"
rm -f "$OUT"/latencies-*.txt # closepaced's requests, pooled over the rounds

[ "$RATE_CLOSE" -ge 1 ] 2>/dev/null || die "RATE_CLOSE must be a number of requests a second"

tools="h2load wrk nginx sqlite3 taskset"
[ -n "${SHORTD:-}" ] || tools="$tools cc pkg-config"
[ "$EXTRAS" = 0 ] || tools="$tools curl"
# shellcheck disable=SC2086 # a list of words
need "apt-get install nghttp2-client wrk nginx-light sqlite3 curl" $tools
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, load generator on CPU 1)"
trap stop_server EXIT

# set_cpus T: the servers' CPUs (SCPU), the load generator's (LCPU) and its
# threads (LTHREADS) for T server threads
set_cpus() {
	T=$1
	if [ "$T" -lt "$NCPU" ]; then
		SCPU=0-$((T - 1)) LCPU=$T-$((NCPU - 1)) LTHREADS=$((NCPU - T)) SHARED=
	else
		SCPU=0-$((NCPU - 1)) LCPU=$((NCPU - 1)) LTHREADS=1
		SHARED="shared with the load generator: $NCPU CPUs for $T threads"
	fi
	if [ "$LTHREADS" -gt 8 ]; then LTHREADS=8; fi
}

# ---- build (none where SHORTD names a built shortd: bench/device.sh) ----
if [ -z "${SHORTD:-}" ]; then
	build_shortd
	build_clients
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -fPIC -shared -o "$OUT/malloc_count.so" \
		bench/malloc_count.c -ldl
else
	for f in mhd302 paced_close; do
		[ -x "$OUT/$f" ] || die "SHORTD is given, so nothing is built, but $OUT/$f is missing"
	done
	[ "$EXTRAS" = 0 ] || [ -f "$OUT/malloc_count.so" ] || die "EXTRAS=1 needs $OUT/malloc_count.so: leave SHORTD out"
fi
MHD_VERSION=${MHD_VERSION:-$(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?')}

# ---- data: links-N.db, uris-N.txt, map-N.conf (bench/fill.sh) ----
. bench/fill.sh


nginx_conf() {
	local n=$1 port=$2 dir=$OUT/nginx
	mkdir -p "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes $T;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; use epoll; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    map_hash_max_size $((n * 2));
    map_hash_bucket_size 128;
    map \$uri \$target {
        default "";
        include $OUT/map-$n.conf;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            if (\$target = "") { return 404; }
            return 302 \$target;
        }
    }
}
EOF
}

wait_port() {
	for _ in $(seq 1 2000); do
		if (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; then return 0; fi
		sleep 0.005
	done
	die "nothing listens on port $1"
}

# start_server A|B|C N [MODE]: starts the server pinned to CPU 0, sets SERVER_PID.
start_server() {
	local which=$1 n=$2 perip=$SHORTD_FLAGS
	PORT=$((PORT + 1))
	[ "${3:-}" = closepaced ] && perip="$perip --max-connections-per-ip 1024"
	case $which in
	A) $NICE taskset -c $SCPU "$SHORTD" serve --listen 127.0.0.1:$PORT --db "$OUT/links-$n.db" \
		--threads "$T" $perip 2>>"$OUT/shortd.log" &
	   ;;
	P) $NICE taskset -c $SCPU "$PREV" serve --listen 127.0.0.1:$PORT --db "$OUT/links-$n-prev.db" \
		--threads "$T" $perip 2>>"$OUT/shortd.log" &
	   ;;
	A0) $NICE taskset -c $SCPU "$SHORTD" serve --listen 127.0.0.1:$PORT --db "$OUT/links-$n.db" \
		--threads "$T" --link-cache 0 $perip 2>>"$OUT/shortd.log" &
	   ;;
	B) nginx_conf "$n" $PORT
	   $NICE taskset -c $SCPU nginx -p "$OUT/nginx" -e "$OUT/nginx/error.log" -c "$OUT/nginx/nginx.conf" 2>>"$OUT/nginx/error.log" &
	   ;;
	C) $NICE taskset -c $SCPU "$OUT/mhd302" $PORT "$T" 2>/dev/null &
	   ;;
	esac
	SERVER_PID=$!
	wait_port $PORT
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
user_ticks() { awk '{print $14}' "/proc/$1/stat"; }
# clicks_ticks PID: CPU ticks of its thread named shortd-clicks, or "-"
clicks_ticks() {
	local f
	for f in /proc/"$1"/task/*/comm; do
		if [ "$(cat "$f" 2>/dev/null)" = shortd-clicks ]; then
			awk '{print $14 + $15}' "${f%/comm}/stat"
			return
		fi
	done
	echo -
}
# waits PID: nanoseconds its threads other than shortd-clicks waited for
# a CPU while runnable (schedstat's run_delay): what other work on the
# server's CPUs, the click writer's bursts among it, cost the requests
waits() {
	local t w=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = shortd-clicks ] && continue
		w=$((w + $(awk '{print $2}' "$t/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$w"
}
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
# counters PID: "ticks clicks_ticks waits user_ticks", read before and after
# a measured run
counters() { echo "$(ticks "$1") $(clicks_ticks "$1") $(waits "$1") $(user_ticks "$1")"; }
# per_req TICKS: CPU ticks over the run's requests ($reqs), in us
per_req() { awk -v d="$1" -v r="$reqs" -v hz="$clk_tck" 'BEGIN {printf "%.2f", d / hz * 1e6 / r}'; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)

# "p50 p99" of the third column (request time in microseconds) of an h2load
# log, by counting: one pass, no sort of a million lines
pcts() {
	awk '{n[$3]++; t++; if ($3 > max) max = $3}
		END {want = int(t * 0.5); if (want < 1) want = 1; w99 = int(t * 0.99); if (w99 < 1) w99 = 1
			for (v = 0; v <= max; v++) {c += n[v]; if (!a && c >= want) a = v + 0.0001; if (c >= w99) {printf "%d %d\n", a, v; exit}}}' "$1"
}

# to_us "1.23ms" -> 1230
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000
		printf "%d", n }'
}

# h2load_results LABEL: sets measure()'s reqs, rps, p50 and p99 from the
# last h2load run (h2load.out and its log), or dies on any 4xx or 5xx.
h2load_results() {
	grep -q ' 0 4xx, 0 5xx' "$OUT/h2load.out" || die "$1: errors: $(grep 'status codes' "$OUT/h2load.out")"
	reqs=$(awk '/^requests:/ {print $8}' "$OUT/h2load.out")
	rps=$(awk '/^finished in/ {print $4}' "$OUT/h2load.out")
	read -r p50 p99 < <(pcts "$OUT/h2load.log")
}

# walk_once LABEL N URL: every code asked once (one kept-alive connection
# walking the list), so that a new-connection run measures a server that
# has seen the walk, whatever its caches hold of it; dies on any 4xx or 5xx.
walk_once() {
	$NICE taskset -c $LCPU h2load --h1 -c1 -n "$2" -i "$OUT/uris-$2.txt" -B "$3" >"$OUT/h2load.out" 2>&1
	grep -q ' 0 4xx, 0 5xx' "$OUT/h2load.out" || die "$1: warm-up: $(grep 'status codes' "$OUT/h2load.out")"
}

# wrk_results LABEL: the same from the last wrk run (wrk.out), or dies on
# any answer other than 2xx and 3xx or any socket error.
wrk_results() {
	if grep -q 'Non-2xx' "$OUT/wrk.out"; then die "$1: errors: $(grep Non-2xx "$OUT/wrk.out")"; fi
	if grep -q 'Socket errors' "$OUT/wrk.out"; then die "$1: $(grep 'Socket errors' "$OUT/wrk.out")"; fi
	reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.out")
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk.out")
	p50=$(to_us "$(awk '$1 == "50%" {print $2}' "$OUT/wrk.out")")
	p99=$(to_us "$(awk '$1 == "99%" {print $2}' "$OUT/wrk.out")")
}

# latencies MODE LABEL N: the file of every request's time over the rounds
latencies() { echo "$OUT/latencies-$1-T$T-$2-$3.txt"; }

# pooled_p99 MODE LABEL N: the p99 of every round's requests taken together
# (each round's own p99 moves with what else the machine ran in it); "-"
# for none
pooled_p99() {
	local f
	f=$(latencies "$@")
	[ -s "$f" ] || { echo -; return; }
	sort -n "$f" | awk '{v[NR] = $1} END {print v[int((NR * 99 + 99) / 100)]}'
}

# pooled_ratio MODE A PEER: A's pooled p99 over PEER's, "-" when either is missing
pooled_ratio() {
	awk -v a="$(pooled_p99 "$1" "$2" "$N")" -v b="$(pooled_p99 "$1" "$3" "$N")" \
		'BEGIN {if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b}'
}

# measure MODE LABEL N: one run against the running server; appends a row
# "mode label n rps cpu_us p50_us p99_us hwm_kb requests threads clicks_us
# wait_us user_us" to results.tsv.
measure() {
	local mode=$1 label=$2 n=$3 url=http://127.0.0.1:$PORT t0 t1 c0 c1 w0 w1 u0 u1 reqs rps p50 p99
	if [ "$mode" = closepaced ]; then
		# RATE_CLOSE new connections a second on an even schedule, one
		# request each, walking the codes (bench/paced_close.c: a request's
		# time runs from its connect() to the server's close), after every
		# code asked once and 2 s of the same load
		walk_once "$label" "$n" "$url"
		$NICE taskset -c $LCPU "$OUT/paced_close" 127.0.0.1 $PORT "$OUT/uris-$n.txt" "$RATE_CLOSE" 2 >/dev/null
		read -r t0 c0 w0 u0 < <(counters "$SERVER_PID")
		$NICE taskset -c $LCPU "$OUT/paced_close" 127.0.0.1 $PORT "$OUT/uris-$n.txt" "$RATE_CLOSE" "$DURATION" \
			"$(latencies "$mode" "$label" "$n")" >"$OUT/paced.out"
		read -r t1 c1 w1 u1 < <(counters "$SERVER_PID")
		read -r _ reqs _ errors _ rps _ p50 _ p99 _ _ _ late <"$OUT/paced.out"
		[ "$errors" = 0 ] || die "$label: $(cat "$OUT/paced.out")"
		[ "$late" -lt 100000 ] || echo "bench: $label: the load fell ${late} us behind its schedule" >&2
	elif [ "$mode" = keepalive ] || [ "$mode" = paced ]; then
		local pace=
		# paced: 64 connections at RATE/64 requests/s each, well under every
		# server's ceiling, for the latency of a loaded but not saturated server
		[ "$mode" = paced ] && pace=--rps=$((RATE / 64))
		$NICE taskset -c $LCPU h2load --h1 -t"$LTHREADS" -c64 -n 20000 -i "$OUT/uris-$n.txt" -B "$url" >/dev/null 2>&1
		read -r t0 c0 w0 u0 < <(counters "$SERVER_PID")
		rm -f "$OUT/h2load.log" # h2load appends to its log
		$NICE taskset -c $LCPU h2load --h1 -t"$LTHREADS" -c64 -D"$DURATION" $pace -i "$OUT/uris-$n.txt" -B "$url" \
			--log-file="$OUT/h2load.log" >"$OUT/h2load.out" 2>&1
		read -r t1 c1 w1 u1 < <(counters "$SERVER_PID")
		h2load_results "$label"
	else
		# Warm-up: every code asked once, then wrk's own 2 s.
		walk_once "$label" "$n" "$url"
		URIS=$OUT/uris-$n.txt $NICE taskset -c $LCPU wrk -t"$LTHREADS" -c64 -d2s -H 'Connection: close' \
			-s bench/uris.lua "$url" >/dev/null 2>&1
		read -r t0 c0 w0 u0 < <(counters "$SERVER_PID")
		URIS=$OUT/uris-$n.txt $NICE taskset -c $LCPU wrk -t"$LTHREADS" -c64 -d"${DURATION}s" --latency \
			-H 'Connection: close' -s bench/uris.lua "$url" >"$OUT/wrk.out" 2>&1
		read -r t1 c1 w1 u1 < <(counters "$SERVER_PID")
		wrk_results "$label"
	fi
	local cpu user wait clk=-
	cpu=$(per_req $((t1 - t0)))
	user=$(per_req $((u1 - u0)))
	wait=$(awk -v d=$((w1 - w0)) -v r="$reqs" 'BEGIN {printf "%.2f", d / 1000 / r}')
	if [ "$c0" != - ] && [ "$c1" != - ]; then
		clk=$(per_req $((c1 - c0)))
	fi
	printf '%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$label" "$n" "$rps" "$cpu" "$p50" \
		"$p99" "$(hwm "$SERVER_PID")" "$reqs" "$T" "$clk" "$wait" "$user" >>"$RESULTS"
	printf '  T=%-2s %-10s %-4s %8s links  %8.0f req/s  %6s us CPU/req (user %s, clicks %s, wait %s)  p50 %5s us  p99 %5s us\n' \
		"$T" "$mode" "$label" "$n" "$rps" "$cpu" "$user" "$clk" "$wait" "$p50" "$p99" >&2
}

# middle: the median of the numbers on standard input, one a line; "-" for
# none or where they are "-"
middle() {
	sort -g | awk '{v[NR] = $1} END {if (NR == 0 || v[1] == "-") print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# median of column COL over rows matching MODE LABEL N and T's thread count
median() {
	awk -F'\t' -v m="$1" -v l="$2" -v n="$3" -v c="$4" -v t="$T" \
		'$1 == m && $2 == l && $3 == n && $10 == t {print $c}' "$RESULTS" | middle
}

# rotated R S1 S2 ...: the servers, the list turned by R-1 places, so that
# over the rounds each runs first, second and so on equally often. A fixed
# order measured the first server of every round (the one after C) 15-25%
# slower per new connection than in the reverse order on this machine.
rotated() {
	local r=$1
	shift
	local n=$# k
	k=$(((r - 1) % n))
	echo "${@:k+1}" "${@:1:k}"
}

# ---- the interleaved comparison ----
fill "$N"
case " $SERVERS " in *" P "*)
	[ -x "$PREV" ] || die "server P needs PREV=path to a shortd binary"
	prev_db "$N"
	;;
esac
echo "bench: $N links, $ROUNDS rounds of ${DURATION}s, threads: $THREADS, modes: $MODES" >&2
for t in $THREADS; do
	set_cpus "$t"
	for mode in $MODES; do
		for round in $(seq 1 "$ROUNDS"); do
			for s in $(rotated "$round" $SERVERS); do
				start_server "$s" "$N" "$mode"
				measure "$mode" "$s" "$N"
				stop_server
			done
		done
	done
done
set_cpus "${THREADS%% *}" # the extras: the first count

# ---- extras ----
if [ "$EXTRAS" = 1 ]; then
	fill "$SMALL"
	fill "$BIG"
	for round in $(seq 1 "$ROUNDS"); do
		for n in "$SMALL" "$BIG"; do
			for s in A A0; do
				start_server $s "$n"
				measure keepalive $s "$n"
				stop_server
			done
		done
	done

	# start-up with BIG links: exec to the `listening on` line
	: >"$OUT/startup.tsv"
	for _ in 1 2 3 4 5; do
		PORT=$((PORT + 1))
		: >"$OUT/startup.log"
		t0=$(date +%s%N)
		$NICE taskset -c $SCPU "$SHORTD" serve --listen 127.0.0.1:$PORT --db "$OUT/links-$BIG.db" \
			--threads "$T" 2>"$OUT/startup.log" &
		SERVER_PID=$!
		until grep -q '^listening on' "$OUT/startup.log"; do sleep 0.001; done
		t1=$(date +%s%N)
		printf '%d\t%s\n' $(((t1 - t0) / 1000)) "$(rss "$SERVER_PID")" >>"$OUT/startup.tsv"
		stop_server
	done
	startup_us=$(cut -f1 "$OUT/startup.tsv" | sort -n | sed -n 3p)
	startup_rss=$(cut -f2 "$OUT/startup.tsv" | sort -n | sed -n 3p)

	# heap allocations per redirect, by the code that asked for them
	start_malloc_count() {
		PORT=$((PORT + 1))
		rm -f "$OUT/malloc.txt"
		MALLOC_COUNT_OUT=$OUT/malloc.txt LD_PRELOAD=$OUT/malloc_count.so $NICE taskset -c $SCPU \
			"$SHORTD" serve --listen 127.0.0.1:$PORT --db "$OUT/links-$N.db" --threads "$T" \
			2>>"$OUT/shortd.log" &
		SERVER_PID=$!
		wait_port $PORT
	}
	start_malloc_count
	$NICE taskset -c $LCPU h2load --h1 -t"$LTHREADS" -c64 -n 20000 -i "$OUT/uris-$N.txt" -B "http://127.0.0.1:$PORT" >/dev/null
	kill -USR1 "$SERVER_PID"; sleep 0.2
	$NICE taskset -c $LCPU h2load --h1 -t"$LTHREADS" -c64 -n 200000 -i "$OUT/uris-$N.txt" -B "http://127.0.0.1:$PORT" >/dev/null
	kill -USR1 "$SERVER_PID"; sleep 0.2
	stop_server
	malloc_per=$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[NR, kv[1]] = kv[2]; k[i] = kv[1]; nk = NF}}
		END {for (i = 1; i <= nk; i++) printf "%s%s %.4f", (i > 1 ? ", " : ""), k[i], (v[2, k[i]] - v[1, k[i]]) / 200000}' \
		"$OUT/malloc.txt")

	# link creation through the API: 8 connections, one link a POST, on a
	# fresh copy of the N links each time (P on its own, prev_db); A (and P,
	# when PREV is given) ROUNDS times in turn. Each line of api.tsv:
	# server, req/s, server CPU us a create.
	printf '{"url":"https://example.com/created"}' >"$OUT/create.json"
	: >"$OUT/api.tsv"
	create_round() { # NAME BINARY DATABASE
		cp "$3" "$OUT/api.db"
		rm -f "$OUT/api.db-wal" "$OUT/api.db-shm"
		PORT=$((PORT + 1))
		$NICE taskset -c $SCPU "$2" serve --listen 127.0.0.1:$PORT --db "$OUT/api.db" --threads "$T" \
			2>>"$OUT/shortd.log" &
		SERVER_PID=$!
		wait_port $PORT
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' --data-binary @"$OUT/create.json" \
			"http://127.0.0.1:$PORT/api/v1/links")
		if [ "$code" = 201 ]; then
			t0=$(ticks "$SERVER_PID")
			$NICE taskset -c $LCPU h2load --h1 -c8 -n 20000 -d "$OUT/create.json" \
				-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
				"http://127.0.0.1:$PORT/api/v1/links" >"$OUT/api.out" 2>&1
			t1=$(ticks "$SERVER_PID")
			grep -q '20000 2xx' "$OUT/api.out" || die "API: $(grep 'status codes' "$OUT/api.out")"
			awk -v s="$1" -v d=$((t1 - t0)) -v hz="$clk_tck" '/^finished in/ {
				printf "%s\t%.0f\t%.0f\n", s, $4, d / hz * 1e6 / 20000}' "$OUT/api.out" >>"$OUT/api.tsv"
		else
			echo "bench: POST /api/v1/links answered $code, not 201: link creation not measured" >&2
		fi
		stop_server
	}
	[ -z "$PREV" ] || prev_db "$N"
	for _ in $(seq 1 "$ROUNDS"); do
		create_round A "$SHORTD" "$OUT/links-$N.db"
		if [ -n "$PREV" ]; then create_round P "$PREV" "$OUT/links-$N-prev.db"; fi
	done
	# api_median SERVER COLUMN: the median over the rounds, "-" for none
	api_median() { awk -F'\t' -v s="$1" -v c="$2" '$1 == s {print $c}' "$OUT/api.tsv" | middle; }
	api_line="A $(api_median A 2) req/s, $(api_median A 3) us of CPU a create"
	if [ -n "$PREV" ]; then
		api_line="$api_line; P $(api_median P 2) req/s, $(api_median P 3) us; A/P CPU $(awk \
			-v a="$(api_median A 3)" -v p="$(api_median P 3)" \
			'BEGIN {if (a == "-" || p == "-" || p == 0) print "-"; else printf "%.2f", a / p}')"
	fi
fi

# ---- the table ----
# ratio A PEER MODE COL: A's median over PEER's, or "-" when either is missing
ratio() {
	awk -v a="$(median "$3" "$1" "$N" "$4")" -v b="$(median "$3" "$2" "$N" "$4")" \
		'BEGIN {if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b}'
}
has() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
# by_round MODE A PEER COL: column COL of A over PEER in each round, in
# order (the k-th row of each is round k), so a ratio near a target shows
# how many rounds fall on either side of it
by_round() {
	awk -F'\t' -v m="$1" -v a="$2" -v b="$3" -v n="$N" -v c="$4" -v t="$T" '
		$1 == m && $3 == n && $10 == t && $2 == a {x[++na] = $c}
		$1 == m && $3 == n && $10 == t && $2 == b {y[++nb] = $c}
		END {
			for (i = 1; i <= na && i <= nb; i++)
				if (x[i] != "-" && y[i] != "-" && y[i] > 0)
					printf "%s%.2f", (s++ ? " " : ""), x[i] / y[i]
			print ""
		}' "$RESULTS"
}
{
	echo
	echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), Linux $(uname -r)"
	echo "$N links; medians of $ROUNDS interleaved rounds of ${DURATION}s; ${NICE:-no nice}"
	echo "load average before the run: $LOAD_BEFORE"
	echo "A shortd (clicks counted)  B nginx $(nginx -v 2>&1 | sed 's/.*\///') map + return 302" \
		"  C libmicrohttpd $MHD_VERSION fixed 302${PREV:+  P $PREV}"
	for t in $THREADS; do
		set_cpus "$t"
		echo
		echo "threads $T: servers on CPUs $SCPU, load generator on CPUs $LCPU ($LTHREADS threads)${SHARED:+; $SHARED}"
		printf '%-10s %-24s %10s %10s %8s %9s %8s %8s %8s %9s\n' mode server req/s "CPU us/req" "user us" \
			"clicks us" "wait us" "p50 us" "p99 us" "RSS MB"
		for mode in $MODES; do
			for s in $SERVERS; do
				case $s in
				A) name="A shortd" ;;
				A0) name="A0 shortd, no cache" ;;
				B) name="B nginx map" ;;
				C) name="C libmicrohttpd 302" ;;
				P) name="P shortd (PREV)" ;;
				esac
				printf '%-10s %-24s %10s %10s %8s %9s %8s %8s %8s %9s\n' "$mode" "$name" "$(median "$mode" "$s" "$N" 4)" \
					"$(median "$mode" "$s" "$N" 5)" "$(median "$mode" "$s" "$N" 13)" "$(median "$mode" "$s" "$N" 11)" \
					"$(median "$mode" "$s" "$N" 12)" "$(median "$mode" "$s" "$N" 6)" "$(median "$mode" "$s" "$N" 7)" \
					"$(awk -v k="$(median "$mode" "$s" "$N" 8)" 'BEGIN {printf "%.1f", k / 1024}')"
			done
			for pair in A/B A/C A0/C P/C A/P; do
				a=${pair%/*} peer=${pair#*/}
				has "$a" && has "$peer" || continue
				printf '%-10s %-24s %10s %10s %8s %9s %8s %8s %8s\n' "$mode" "ratio $pair" "$(ratio "$a" "$peer" "$mode" 4)" \
					"$(ratio "$a" "$peer" "$mode" 5)" "$(ratio "$a" "$peer" "$mode" 13)" "" \
					"$(ratio "$a" "$peer" "$mode" 12)" "$(ratio "$a" "$peer" "$mode" 6)" \
					"$(ratio "$a" "$peer" "$mode" 7)"
			done
			for pair in A/C A/P; do
				a=${pair%/*} peer=${pair#*/}
				has "$a" && has "$peer" || continue
				printf '%-10s CPU us/req %s a round: %s\n' "$mode" "$pair" "$(by_round "$mode" "$a" "$peer" 5)"
			done
			[ "$mode" = closepaced ] || continue
			line=
			for s in $SERVERS; do
				p99=$(pooled_p99 "$mode" "$s" "$N")
				[ "$p99" = - ] || line="$line, $s $p99 us"
			done
			for pair in A/C P/C A/P; do
				a=${pair%/*} peer=${pair#*/}
				has "$a" && has "$peer" && line="$line, $pair $(pooled_ratio "$mode" "$a" "$peer")"
			done
			echo "closepaced p99 of every round's requests pooled: ${line#, }"
		done
	done
	# One row per thread count: the targets' ratios to C in this run.
	if has A && has C; then
		echo
		printf '%-8s %18s %18s %18s %18s %22s %22s %22s\n' threads "close CPU/req A/C" "keepalive CPU A/C" \
			"close req/s A/C" "keepalive req/s A/C" "close p99 A / C us" "closepaced p99 A/C" \
			"pooled p99 A/C"
		for t in $THREADS; do
			set_cpus "$t"
			printf '%-8s %18s %18s %18s %18s %22s %22s %22s\n' "$T" "$(ratio A C close 5)" "$(ratio A C keepalive 5)" \
				"$(ratio A C close 4)" "$(ratio A C keepalive 4)" \
				"$(median close A "$N" 7) / $(median close C "$N" 7)" "$(ratio A C closepaced 7)" \
				"$(pooled_ratio closepaced A C)"
		done
		set_cpus "${THREADS%% *}"
	fi
	# One row per thread count: A's requests/s against nginx's, and against
	# T/T1 times its own at the first count T1 (1.00 is linear scaling).
	if has A && [ "$(echo $THREADS | wc -w)" -gt 1 ]; then
		t1=${THREADS%% *}
		echo
		printf '%-8s %18s %18s %22s %22s\n' threads "close req/s A/B" "keepalive req/s A/B" \
			"close A of linear" "keepalive A of linear"
		# of_linear MODE: A's requests/s at T over T/T1 times its own at T1
		of_linear() {
			awk -v a="$(median "$1" A "$N" 4)" -v b="$(T=$t1 median "$1" A "$N" 4)" -v t="$T" -v t1="$t1" \
				'BEGIN {if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / (b * t / t1)}'
		}
		for t in $THREADS; do
			set_cpus "$t"
			printf '%-8s %18s %18s %22s %22s\n' "$T" "$(ratio A B close 4)" "$(ratio A B keepalive 4)" \
				"$(of_linear close)" "$(of_linear keepalive)"
		done
		set_cpus "${THREADS%% *}"
	fi
	if [ "$EXTRAS" = 1 ]; then
		echo
		for s in A A0; do
			for n in "$SMALL" "$BIG"; do
				printf '%-10s %-24s %10s %10s %8s %9s %8s %8s %8s %9s\n' keepalive "$s shortd, $n links" \
					"$(median keepalive $s "$n" 4)" "$(median keepalive $s "$n" 5)" "$(median keepalive $s "$n" 13)" \
					"$(median keepalive $s "$n" 11)" "$(median keepalive $s "$n" 12)" \
					"$(median keepalive $s "$n" 6)" "$(median keepalive $s "$n" 7)" \
					"$(awk -v k="$(median keepalive $s "$n" 8)" 'BEGIN {printf "%.1f", k / 1024}')"
			done
		done
		echo
		echo "start-up with $BIG links: $(awk -v u="$startup_us" 'BEGIN {printf "%.1f", u / 1000}') ms" \
			"(median of 5, exec to 'listening on'), RSS then $(awk -v k="$startup_rss" 'BEGIN {printf "%.1f", k / 1024}') MB"
		echo "heap allocations per redirect: $malloc_per"
		echo "link creation through the API (8 connections, medians of $ROUNDS): $api_line"
	fi
} | tee "$OUT/table.txt"

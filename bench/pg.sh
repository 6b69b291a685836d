#!/bin/bash
# One node on PostgreSQL against the same node on SQLite; by hand, never
# part of `make check`. Starts a throw-away PostgreSQL 15 cluster (initdb in
# a temporary folder, a Unix socket there, as nobody when run as root), then
# for each backend:
#   redirects  N links made, each asked once (so every worker thread has it
#              cached), then h2load (64 connections, keep-alive) on the N
#              codes for DURATION s: redirects/s and the daemon's CPU time
#              per redirect (utime + stime from /proc);
#   creates    h2load POSTing links with generated codes (8 connections, one
#              request each at a time) for DURATION s: creates/s.
# Then the same on PostgreSQL with NODES daemons on one database (3 by
# default): the links made through the first, every node's cache warmed,
# one h2load per node at once (the 64 and 8 connections shared out), the
# redirects/s and creates/s summed and the CPU time of every node summed per
# redirect. Every daemon runs on CPU 0, the load generators on CPU 1, so on
# a small machine the nodes share one CPU: what this row shows there is
# what a node costs per redirect and what several nodes cost the database,
# not how far they scale.
# Prints one table.
#
# Knobs (environment): N=10000 DURATION=10 BUILD=build THREADS=1 NODES=3
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
DURATION=${DURATION:-10}
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
NODES=${NODES:-3}
PGBIN=${SHORTD_PG_BIN:-/usr/lib/postgresql/15/bin}
TOKEN=bench-admin-token-0123456789abcdef
export SHORTD_ADMIN_TOKEN=$TOKEN

die() { echo "bench/pg: $*" >&2; exit 1; }
for tool in h2load taskset curl psql; do
	command -v $tool >/dev/null || die "$tool is missing (apt-get install nghttp2-client curl)"
done
[ -x "$PGBIN/initdb" ] || die "no PostgreSQL server binaries in $PGBIN (apt-get install postgresql)"
make --no-print-directory "$BUILD/shortd" >/dev/null

WORK=$(mktemp -d /tmp/shortd-bench-pg-XXXXXX)
OWNER=()
if [ "$(id -u)" -eq 0 ]; then
	chown nobody:nogroup "$WORK"
	OWNER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
chmod 755 "$WORK"
SERVER_PID=
NODE_PIDS=()
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	for pid in "${NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
	"${OWNER[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
"${OWNER[@]}" "$PGBIN/initdb" -D "$WORK/data" -U shortd --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${OWNER[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
	-o "-k $WORK -c listen_addresses= -c max_connections=100" start >/dev/null
psql -q "postgresql:///postgres?host=$WORK&user=shortd" -c "CREATE DATABASE bench"

# Starts the daemon on db; sets SERVER_PID and BASE.
start() {
	local log=$WORK/daemon${2:-}.log
	taskset -c 0 "$BUILD/shortd" serve --listen 127.0.0.1:0 --db "$1" --threads "$THREADS" 2>"$log" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
		[ -n "$BASE" ] && return 0
		sleep 0.1
	done
	cat "$log" >&2
	die "the daemon did not start"
}

stop() {
	kill "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
}

# Makes the N links b1..bN through the API at $1, in arrays of 1,000.
make_links() {
	for i in $(seq "$N"); do
		printf '{"url":"https://bench.example/%d","code":"b%d"}\n' "$i" "$i"
	done | split -l 1000 - "$WORK/batch."
	for f in "$WORK"/batch.*; do
		(echo '['; paste -sd, "$f"; echo ']') | curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' --data-binary @- "$1/api/v1/links" || die "bulk create failed"
		rm -f "$f"
	done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# Runs one backend; prints: name redirects/s us-cpu/redirect creates/s
run() {
	local name=$1 db=$2 urls=$WORK/urls.txt body=$WORK/body.json
	start "$db"
	: >"$urls"
	make_links "$BASE"
	for i in $(seq "$N"); do echo "$BASE/b$i"; done >"$urls"
	# Once each, so every worker's cache holds them (one worker per thread).
	taskset -c 1 h2load --h1 -c 1 -t 1 -i "$urls" -n "$N" >/dev/null
	local t0 t1 out rps
	t0=$(cpu_ticks)
	out=$(taskset -c 1 h2load --h1 -c 64 -t 1 -i "$urls" -D "$DURATION" 2>&1)
	t1=$(cpu_ticks)
	rps=$(echo "$out" | awk '/^finished in/ {print $4}')
	local done2xx
	done2xx=$(echo "$out" | awk '/^status codes:/ {print $5}')
	local us
	us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$(echo "$out" | awk '/^requests:/ {print $8}')" \
		'BEGIN { printf "%.2f", t / hz * 1e6 / (n > 0 ? n : 1) }')
	echo '{"url":"https://bench.example/created"}' >"$body"
	out=$(taskset -c 1 h2load --h1 -c 8 -t 1 -m 1 -D "$DURATION" -d "$body" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' "$BASE/api/v1/links" 2>&1)
	local cps
	cps=$(echo "$out" | awk '/^finished in/ {print $4}')
	stop
	printf '%-10s %12s %16s %10s   (%s 3xx)\n' "$name" "$rps" "$us" "$cps" "$done2xx"
}

# Runs NODES daemons on one PostgreSQL database; prints the same row, summed.
run_nodes() {
	local db=$1 urls=$WORK/urls.txt body=$WORK/body.json k=$NODES bases=() i
	psql -q "postgresql:///postgres?host=$WORK&user=shortd" -c "CREATE DATABASE nodes"
	for ((i = 0; i < k; i++)); do
		start "$db" ".$i"
		NODE_PIDS+=("$SERVER_PID")
		bases+=("$BASE")
		SERVER_PID=
	done
	make_links "${bases[0]}"
	for ((i = 0; i < k; i++)); do
		for j in $(seq "$N"); do echo "${bases[$i]}/b$j"; done >"$urls.$i"
		taskset -c 1 h2load --h1 -c 1 -t 1 -i "$urls.$i" -n "$N" >/dev/null
	done
	local t0=0 t1=0 pid loads=()
	for pid in "${NODE_PIDS[@]}"; do t0=$((t0 + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
	for ((i = 0; i < k; i++)); do
		taskset -c 1 h2load --h1 -c $((64 / k)) -t 1 -i "$urls.$i" -D "$DURATION" >"$WORK/h2.$i" 2>&1 &
		loads+=($!)
	done
	wait "${loads[@]}"
	for pid in "${NODE_PIDS[@]}"; do t1=$((t1 + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
	local rps n us done3xx
	rps=$(cat "$WORK"/h2.* | awk '/^finished in/ {s += $4} END {printf "%.2f", s}')
	n=$(cat "$WORK"/h2.* | awk '/^requests:/ {s += $8} END {print s}')
	done3xx=$(cat "$WORK"/h2.* | awk '/^status codes:/ {s += $5} END {print s}')
	us=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.2f", t / hz * 1e6 / (n > 0 ? n : 1) }')
	rm -f "$WORK"/h2.*
	loads=()
	echo '{"url":"https://bench.example/created"}' >"$body"
	for ((i = 0; i < k; i++)); do
		taskset -c 1 h2load --h1 -c $(((8 + k - 1) / k)) -t 1 -m 1 -D "$DURATION" -d "$body" \
			-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
			"${bases[$i]}/api/v1/links" >"$WORK/h2.$i" 2>&1 &
		loads+=($!)
	done
	wait "${loads[@]}"
	local cps
	cps=$(cat "$WORK"/h2.* | awk '/^finished in/ {s += $4} END {printf "%.2f", s}')
	rm -f "$WORK"/h2.*
	for pid in "${NODE_PIDS[@]}"; do kill "$pid"; wait "$pid" || true; done
	NODE_PIDS=()
	printf '%-10s %12s %16s %10s   (%s 3xx)\n' "pg x$k" "$rps" "$us" "$cps" "$done3xx"
}

printf '%-10s %12s %16s %10s\n' backend redirects/s us-cpu/redirect creates/s
run sqlite "$WORK/bench.db"
run postgresql "postgresql:///bench?host=$WORK&user=shortd"
[ "$NODES" -gt 1 ] && run_nodes "postgresql:///nodes?host=$WORK&user=shortd"

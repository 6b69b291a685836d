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
# The server runs on CPU 0, the load generator on CPU 1. Prints one table.
#
# Knobs (environment): N=10000 DURATION=10 BUILD=build THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
DURATION=${DURATION:-10}
BUILD=${BUILD:-build}
THREADS=${THREADS:-1}
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
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
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
	local log=$WORK/daemon.log
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

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# Runs one backend; prints: name redirects/s us-cpu/redirect creates/s
run() {
	local name=$1 db=$2 urls=$WORK/urls.txt body=$WORK/body.json
	start "$db"
	: >"$urls"
	for i in $(seq "$N"); do
		printf '{"url":"https://bench.example/%d","code":"b%d"}\n' "$i" "$i"
	done | split -l 1000 - "$WORK/batch."
	for f in "$WORK"/batch.*; do
		(echo '['; paste -sd, "$f"; echo ']') | curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' --data-binary @- "$BASE/api/v1/links" || die "bulk create failed"
		rm -f "$f"
	done
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

printf '%-10s %12s %16s %10s\n' backend redirects/s us-cpu/redirect creates/s
run sqlite "$WORK/bench.db"
run postgresql "postgresql:///bench?host=$WORK&user=shortd"

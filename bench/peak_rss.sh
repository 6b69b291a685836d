#!/bin/bash
# Peak resident size of the daemon serving a large database, by hand only
# (never part of make check): the figure behind the target "RSS < 32 MB
# with 1,000,000 links" in bench/RESULTS.md.
#
# For each thread count of THREADS, ROUNDS times, each binary in turn (A:
# $BUILD/shortd; P: $PREV when set, e.g. built from the commit before):
# serve BIG links (bench/fill.sh makes them once), walk their codes in
# random order over new connections (wrk: one thread, 64 connections,
# `Connection: close`, DURATION seconds: 200,000-300,000 distinct links on
# a 2-core machine, enough to fill the link cache to its limit and SQLite's
# page caches), then read the daemon's VmHWM. The server runs on CPU 0 and
# wrk on CPU 1: the figure is memory, not speed.
#
# Prints one row per binary and thread count: the median, least and most
# peak RSS over the rounds in MiB (VmHWM / 1024, as bench/run.sh's RSS
# column), and the median of the requests answered in a round.
#
# Knobs (environment): BIG=1000000 THREADS="1 2" ROUNDS=3 DURATION=14
# BUILD=build PREV= (a shortd binary: adds row P)
set -euo pipefail
PREV=${PREV:-}
[ -z "$PREV" ] || PREV=$(realpath "$PREV")
cd "$(dirname "$0")/.."

BIG=${BIG:-1000000}
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-14}
BUILD=${BUILD:-build}
PORT=18680

BENCH=peak_rss
. bench/common.sh
need "apt-get install wrk sqlite3" wrk sqlite3 taskset
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, wrk on CPU 1)"
[ -z "$PREV" ] || [ -x "$PREV" ] || die "PREV=$PREV is not an executable"

trap stop_server EXIT

build_shortd
out_dir bench/out
. bench/fill.sh
fill "$BIG"
[ -z "$PREV" ] || prev_db "$BIG"
work=$(mktemp -d "${TMPDIR:-/tmp}/shortd-peak-rss-XXXXXX")
trap 'stop_server; rm -rf "$work"' EXIT

# walk LABEL BIN THREADS: one round; appends "LABEL peak_kib requests" to
# $work/rows
walk() {
	local label=$1 bin=$2 t=$3 db=$work/links.db src=$OUT/links-$BIG.db
	[ "$label" = A ] || src=$OUT/links-$BIG-prev.db
	# a copy per round: every round starts from the same file, and the
	# clicks written do not grow the one that fill keeps
	cp "$src" "$db"
	rm -f "$db-wal" "$db-shm"
	PORT=$((PORT + 1))
	: >"$work/serve.log"
	taskset -c 0 "$bin" serve --listen 127.0.0.1:$PORT --db "$db" --threads "$t" 2>"$work/serve.log" &
	SERVER_PID=$!
	for _ in $(seq 1 2000); do
		grep -q '^listening on' "$work/serve.log" && break
		kill -0 "$SERVER_PID" 2>/dev/null || die "$bin did not start: $(cat "$work/serve.log")"
		sleep 0.005
	done
	grep -q '^listening on' "$work/serve.log" || die "$bin did not start within 10 s"
	URIS=$OUT/uris-$BIG.txt taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" -H 'Connection: close' \
		-s bench/uris.lua "http://127.0.0.1:$PORT" >"$work/wrk.out" 2>&1 || die "wrk failed: $(cat "$work/wrk.out")"
	! grep -q 'Non-2xx' "$work/wrk.out" || die "answers other than 3xx: $(cat "$work/wrk.out")"
	sleep 1 # the click writer's last batch
	printf '%s %s %s\n' "$label" "$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")" \
		"$(awk '/requests in/ {print $1}' "$work/wrk.out")" >>"$work/rows"
	stop_server
}

servers="A"
[ -z "$PREV" ] || servers="A P"
printf 'peak RSS, %s links, %s s of new connections a round, %s rounds\n' "$BIG" "$DURATION" "$ROUNDS"
printf '%-7s %-6s %10s %10s %10s %10s\n' threads server 'median MiB' 'least MiB' 'most MiB' requests
for t in $THREADS; do
	: >"$work/rows"
	for r in $(seq 1 "$ROUNDS"); do
		for s in $servers; do
			bin=$SHORTD
			[ "$s" = A ] || bin=$PREV
			walk "$s" "$bin" "$t"
			echo "  T=$t round $r $s: $(tail -1 "$work/rows")" >&2
		done
	done
	for s in $servers; do
		kib=$(awk -v s="$s" '$1 == s {print $2}' "$work/rows" | sort -n | tr '\n' ' ')
		reqs=$(awk -v s="$s" '$1 == s {print $3}' "$work/rows" | sort -n | tr '\n' ' ')
		echo "$kib" "$reqs" | awk -v t="$t" -v s="$s" '
			function median(f, n) { return n % 2 ? $(f + (n + 1) / 2) : ($(f + n / 2) + $(f + n / 2 + 1)) / 2 }
			{n = NF / 2; printf "%-7s %-6s %10.1f %10.1f %10.1f %10d\n",
				t, s, median(0, n) / 1024, $1 / 1024, $n / 1024, median(n, n)}'
	done
done

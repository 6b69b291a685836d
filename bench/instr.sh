#!/bin/bash
# Instructions a redirect costs, under callgrind: by hand only, never part of
# make check. callgrind counts instructions, not seconds, so the figures
# are the same on a busy machine, where bench/run.sh's CPU times move by
# 10-15% between rounds; what it cannot see is the kernel's share (the
# same system calls for both servers) and what a cache miss costs.
#
# Servers: A shortd (one thread, a copy of the benchmark's N links,
# bench/fill.sh) and C the bare libmicrohttpd 302 (bench/mhd302.c), each
# under callgrind with every thread counted (shortd's click writer too).
#
# Modes:
#   keepalive  h2load, 64 kept-alive connections, REQS requests: each
#              connection walks the list from its start, so the run asks
#              REQS/64 codes, each 64 times
#   close      bench/paced_close, one request a connection, RATE new
#              connections a second for DURATION seconds
# Each run is made twice and only the second counted, after (close) every
# code asked once over one kept-alive connection, so every link it asks
# for is in shortd's caches, as in a daemon that has been up a while.
#
# AGENTS: "h2load" (h2load's own few header fields) and "browser" (the
# fields a desktop Chrome sends when it follows a link: a 117-byte
# User-Agent, Accept, a Referer, the Sec-Fetch and client-hint fields);
# keep-alive only, paced_close sends its own fixed request.
#
# Printed per row, in instructions a request: all the server's threads
# ("all": shortd's click writer is the difference), the thread that
# answers, its share in libmicrohttpd's memset of the 32 KiB connection
# pool after every request (both servers pay it alike) and the rest of
# that thread; A/C of each; then shortd's costliest functions on the
# answering thread (inclusive). At close's low rate the click writer's
# write once a second is shared by few requests: "all" is not a rate
# of wrk's pace there.
#
# Knobs (environment): N=100000 REQS=20000 RATE=200 DURATION=10
# MODES="keepalive close" AGENTS="h2load browser" TOP=12 BUILD=build
# KEEP=1 (the callgrind files are left in the printed work folder)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
REQS=${REQS:-20000}
RATE=${RATE:-200}
DURATION=${DURATION:-10}
MODES=${MODES:-keepalive close}
AGENTS=${AGENTS:-h2load browser}
TOP=${TOP:-12}
BUILD=${BUILD:-build}
PORT=18580

BENCH=instr
. bench/common.sh
need "apt-get install valgrind nghttp2-client sqlite3 gcc pkg-config" valgrind callgrind_annotate h2load sqlite3 cc \
	pkg-config
build_shortd
out_dir bench/out
build_clients
. bench/fill.sh
fill "$N"

work=$(mktemp -d)
trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
[ -z "${KEEP:-}" ] || echo "instr: callgrind files kept in $work" >&2

# A desktop Chrome following a link from another site.
BROWSER=(
	-H 'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
	-H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
	-H 'Accept-Language: en-US,en;q=0.9'
	-H 'Accept-Encoding: gzip, deflate, br, zstd'
	-H 'Referer: https://news.example.org/some/article'
	-H 'Sec-Fetch-Dest: document'
	-H 'Sec-Fetch-Mode: navigate'
	-H 'Sec-Fetch-Site: cross-site'
	-H 'Sec-Fetch-User: ?1'
	-H 'Upgrade-Insecure-Requests: 1'
	-H 'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"'
	-H 'sec-ch-ua-mobile: ?0'
	-H 'sec-ch-ua-platform: "Windows"'
)

# load MODE AGENT: one run of the mode's load; prints the requests answered.
load() {
	local url=http://127.0.0.1:$PORT extra=()
	[ "$2" = browser ] && extra=("${BROWSER[@]}")
	if [ "$1" = keepalive ]; then
		h2load --h1 -c64 -n "$REQS" "${extra[@]}" -i "$OUT/uris-$N.txt" -B "$url" >"$work/h2load.out" 2>&1
		grep -q ' 0 4xx, 0 5xx' "$work/h2load.out" || die "errors: $(grep 'status codes' "$work/h2load.out")"
		awk '/^requests:/ {print $8}' "$work/h2load.out"
	else
		"$OUT/paced_close" 127.0.0.1 $PORT "$OUT/uris-$N.txt" "$RATE" "$DURATION" >"$work/paced.out"
		local reqs errors
		read -r _ reqs _ errors _ <"$work/paced.out"
		[ "$errors" = 0 ] || die "errors: $(cat "$work/paced.out")"
		echo "$reqs"
	fi
}

# measure SERVER MODE AGENT: prints "all http memset": instructions a
# request in all threads, in the thread that answers (libmicrohttpd's
# and shortd's own code on it), and in its pool memset; for A, writes
# the answering thread's costliest functions to $work/top.
measure() {
	local s=$1 cg=$work/cg.$1.$2.$3 reqs all=0 http=0 f n memset
	rm -f "$cg"*
	if [ "$s" = A ]; then
		cp "$OUT/links-$N.db" "$work/links.db"
		rm -f "$work/links.db-wal" "$work/links.db-shm"
		valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$cg" "$SHORTD" serve \
			--listen 127.0.0.1:$PORT --db "$work/links.db" --threads 1 --max-connections-per-ip 1024 \
			2>"$work/server.log" &
	else
		valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$cg" "$OUT/mhd302" $PORT 1 \
			2>"$work/server.log" &
	fi
	SERVER_PID=$!
	for _ in $(seq 600); do
		(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
		sleep 0.05
	done
	# paced_close starts at a random line of the list: every code asked
	# once first, so that whichever it asks is in the caches.
	[ "$2" = close ] && h2load --h1 -c1 -n "$N" -i "$OUT/uris-$N.txt" -B "http://127.0.0.1:$PORT" >/dev/null 2>&1
	load "$2" "$3" >/dev/null
	callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
	reqs=$(load "$2" "$3")
	callgrind_control -d "$SERVER_PID" >/dev/null 2>&1
	stop_server
	# One file a thread: the answering one is where the access handler
	# ran (shortd) or the one that did the most (the bare 302).
	for f in "$cg".1-*; do
		n=$(awk '/^summary:/ {print $2}' "$f")
		all=$((all + n))
		if { [ "$s" = A ] && grep -q 'on_request' "$f"; } || { [ "$s" = C ] && [ "$n" -gt "$http" ]; }; then
			http=$n
			cp "$f" "$work/http.cg"
		fi
	done
	memset=$(callgrind_annotate --threshold=100 --inclusive=no "$work/http.cg" 2>/dev/null |
		awk '/memset-vec-unaligned-erms.S:__memset/ && !m {gsub(",", "", $1); print $1; m = 1}')
	if [ "$s" = A ]; then
		callgrind_annotate --threshold=100 --inclusive=yes "$work/http.cg" 2>/dev/null |
			awk -v r="$reqs" -v top="$TOP" '/src\/[a-z_]+\.c:[a-z_]+ \[/ {
				n = $1; gsub(",", "", n); f = $0; sub(/.*src\//, "", f); sub(/ .*/, "", f)
				if (!(f in seen) && k < top) {seen[f] = 1; k++; printf "      %8d  %s\n", n / r, f}}' >"$work/top"
	fi
	echo "$((all / reqs)) $((http / reqs)) $((${memset:-0} / reqs))"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
row() { printf '%-10s %-8s %-20s %10s %10s %10s %10s\n' "$@"; }
row mode agent server "all" "answering" "its memset" "the rest"
for mode in $MODES; do
	for agent in $AGENTS; do
		[ "$mode" = close ] && [ "$agent" != h2load ] && continue
		read -r aa ah am < <(measure A "$mode" "$agent")
		cp "$work/top" "$work/top.A"
		read -r ca ch cm < <(measure C "$mode" "$agent")
		row "$mode" "$agent" "A shortd" "$aa" "$ah" "$am" $((ah - am))
		row "$mode" "$agent" "C libmicrohttpd 302" "$ca" "$ch" "$cm" $((ch - cm))
		row "$mode" "$agent" "ratio A/C" "$(ratio "$aa" "$ca")" "$(ratio "$ah" "$ch")" "" \
			"$(ratio $((ah - am)) $((ch - cm)))"
		echo "    shortd's costliest functions on the answering thread (inclusive, a request):"
		cat "$work/top.A"
	done
done

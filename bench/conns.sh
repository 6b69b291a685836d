#!/bin/bash
# The connection table's cost to a new connection as threads are added, by
# hand only (never part of make check): bench/conns.c drives
# src/http_conns.c from THREADS threads at once, as the workers' accept
# policy and connection callbacks do, without sockets or libmicrohttpd, so
# what it prints is the table's own cost and what the threads' sharing of
# it adds. With PREV (a commit), the same program is built against that
# commit's table too, and each cell is run for both in turn.
#
# Printed per cell (threads, addresses, the work between two connections):
# the process's CPU time a connection (median of ROUNDS), and beside it
# what the other threads add: that figure less the one-thread figure at
# the same addresses and gap. The table's own cost at one thread is a
# hundred nanoseconds; a connection's whole cost in the daemon is about
# 20 us (bench/run.sh, close), so GAP_NS=2000 at two threads offers the
# table as many connections from the other thread as eight to ten workers
# on a many-core machine would.
#
# Knobs (environment): THREADS="1 2" ADDRS="1 4096" (1: every connection
# from 127.0.0.1, as from the benchmark's load generator; 0: one address
# and --max-connections-per-ip 0) GAPS="0 2000 20000" (ns) ROUNDS=3
# SECONDS_EACH=2 PREV= (a commit) BUILD=build; CONNS_A= and CONNS_P=
# (programs built before, as bench/device.sh bundles them: nothing is
# built then)
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-1 2}
ADDRS=${ADDRS:-1 4096}
GAPS=${GAPS:-0 2000 20000}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-2}
PREV=${PREV:-}
BUILD=${BUILD:-build}

BENCH=conns
. bench/common.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/shortd-conns-XXXXXX")
trap 'rm -rf "$work"' EXIT

servers=A
if [ -n "${CONNS_A:-}" ]; then
	ln -s "$CONNS_A" "$work/A"
	head="$CONNS_A"
	if [ -n "${CONNS_P:-}" ]; then
		ln -s "$CONNS_P" "$work/P"
		servers="A P"
		PREV=$CONNS_P
	fi
else
	need "apt-get install gcc pkg-config libsodium-dev" cc pkg-config
	make --no-print-directory BUILD="$BUILD" "$BUILD/libshortd.a" >/dev/null
	build_conns . "$BUILD/libshortd.a" "$work/A"
	if [ -n "$PREV" ]; then
		build_conns_at "$PREV" "$work/P"
		servers="A P"
	fi
	head=$(git rev-parse --short HEAD)
	git diff --quiet HEAD -- src include || head="$head with changes"
fi

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "conns: $(nproc) CPUs, $ROUNDS rounds of ${SECONDS_EACH}s; A $head${PREV:+, P $PREV}"
printf '%-8s %-7s %-7s %-7s %12s %10s\n' table threads addrs gap_ns "ns/conn" "added"
for a in $ADDRS; do
	for g in $GAPS; do
		declare -A one=()
		for t in $THREADS; do
			declare -A runs=()
			for _ in $(seq "$ROUNDS"); do
				for s in $servers; do
					runs[$s]+="$("$work/$s" "$t" "$SECONDS_EACH" "$a" "$g" | awk '{print $3}') "
				done
			done
			declare -A med=()
			for s in $servers; do
				med[$s]=$(echo "${runs[$s]}" | median)
				[ "$t" != "$(echo "$THREADS" | awk '{print $1}')" ] || one[$s]=${med[$s]}
				printf '%-8s %-7s %-7s %-7s %12s %10s\n' "$s" "$t" "$a" "$g" "${med[$s]}" \
					"$(awk -v m="${med[$s]}" -v o="${one[$s]}" 'BEGIN {printf "%+.1f", m - o}')"
			done
			if [ -n "$PREV" ]; then
				printf '%-8s %-7s %-7s %-7s %12s\n' "A/P" "$t" "$a" "$g" \
					"$(awk -v a="${med[A]}" -v p="${med[P]}" 'BEGIN {printf "%.2f", a / p}')"
			fi
			unset runs med
		done
		unset one
	done
done

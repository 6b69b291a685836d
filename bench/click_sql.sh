#!/bin/bash
# The click writer's SQL under callgrind, by hand only (never part of make
# check): instructions per written row for each way of writing a batch of
# clicks that bench/click_sql.c knows: "chunks", what src/store_sqlite.c
# writes, and "rows", what it wrote before the counts were packed 128
# links to a row (schema 7). callgrind counts instructions, not seconds,
# so the figures are the same on a busy machine; the pages the batches
# write to the -wal (system time, which callgrind does not count) are
# printed beside them.
#
# Each variant starts from its own copy of the benchmark's N links
# (bench/fill.sh), every link clicked twice before and holding counts for
# DAY, as a daemon that has served the walk before has; BATCHES batches
# of ROWS random clicks (CLICKS_BATCH_ROWS in src/clicks.c is 16,000),
# sorted, one transaction each.
#
# Knobs (environment): N=100000 BATCHES=3 ROWS=16000
# VARIANTS="rows chunks" BUILD=build NEWDAY=0 (1: the clicks are of the
# next day, which no link has counts for yet: each link's first click of
# a day)
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
BATCHES=${BATCHES:-3}
ROWS=${ROWS:-16000}
VARIANTS=${VARIANTS:-rows chunks}
BUILD=${BUILD:-build}
NEWDAY=${NEWDAY:-0}
DAY=20000

BENCH=click_sql
. bench/common.sh
need "apt-get install valgrind sqlite3 gcc" valgrind sqlite3 cc
build_shortd
out_dir bench/out
. bench/fill.sh
fill "$N"
work=$(mktemp -d "${TMPDIR:-/tmp}/shortd-click-sql-XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinclude -o "$work/click_sql" bench/click_sql.c src/click_chunk.c -lsqlite3

# The benchmark's links, each clicked twice already and once on DAY: in
# the packed rows (chunks), and in links7 and clicks_daily as schema 7
# kept them (rows: links7 as wide as links was, with the counts).
sqlite3 "$OUT/links-$N.db" ".backup '$work/base.db'"
sqlite3 "$work/base.db" "
	DELETE FROM click_totals; DELETE FROM click_days; DELETE FROM referrers_daily;
	CREATE TABLE links7 (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, url TEXT NOT NULL,
		status INTEGER NOT NULL, forward_query INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER, max_clicks INTEGER,
		clicks INTEGER NOT NULL DEFAULT 0, bot_clicks INTEGER NOT NULL DEFAULT 0, last_click_at INTEGER,
		title TEXT, tags TEXT NOT NULL DEFAULT '[]', created_by TEXT, updated_by TEXT);
	INSERT INTO links7 SELECT id, code, url, status, forward_query, disabled, created_at, updated_at,
		expires_at, max_clicks, 2, 0, 1700000000, title, tags, created_by, updated_by FROM links;
	CREATE TABLE clicks_daily (link_id INTEGER NOT NULL REFERENCES links7 (id) ON DELETE CASCADE,
		day INTEGER NOT NULL, clicks INTEGER NOT NULL DEFAULT 0, bot_clicks INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (link_id, day)) WITHOUT ROWID;
	INSERT INTO clicks_daily (link_id, day, clicks, bot_clicks) SELECT id, $DAY, 2, 0 FROM links;
	PRAGMA journal_mode = WAL;" >/dev/null
"$work/click_sql" "$work/base.db" fill "$N" "$DAY" >/dev/null
sqlite3 "$work/base.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

# instructions VARIANT: "instructions rows pages" for one run
instructions() {
	local db=$work/$1.db
	cp "$work/base.db" "$db"
	rm -f "$db-wal" "$db-shm"
	valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1" "$work/click_sql" "$db" "$1" \
		"$BATCHES" "$ROWS" "$N" $((DAY + NEWDAY)) >"$work/out.$1" 2>"$work/err.$1" ||
		die "$1: $(tail -n 3 "$work/err.$1")"
	echo "$(awk '/^summary:/ {print $2}' "$work/cg.$1") $(awk '{print $2, $4}' "$work/out.$1")"
}

read -r base_ir _ _ < <(instructions none)
echo "click_sql: $N links, $BATCHES batches of $ROWS random clicks$([ "$NEWDAY" = 1 ] && echo ", a day no link has a row for yet")"
echo "(callgrind; the loop's own $base_ir instructions taken off)"
printf '%-10s %10s %14s %10s %12s\n' variant rows "instr/row" "vs rows" "-wal pages"
cur=
for v in $VARIANTS; do
	read -r ir rows pages < <(instructions "$v")
	per=$(((ir - base_ir) / rows))
	[ -n "$cur" ] || [ "$v" != rows ] || cur=$per
	printf '%-10s %10s %14s %10s %12s\n' "$v" "$rows" "$per" \
		"$([ -n "$cur" ] && awk -v a="$per" -v b="$cur" 'BEGIN {printf "%.2f", a / b}' || echo -)" "$pages"
done

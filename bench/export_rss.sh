#!/bin/bash
# Export and import at scale, by hand only (never part of make check):
# fills a database with N links (default: 100,000 then 1,000,000) through
# `shortd import` of a generated JSON lines file, then measures the peak
# resident size (max RSS, from GNU time) and the wall time of
# `shortd export` in both formats, and of the import itself. The export
# reads the store a page at a time, so its max RSS must not grow with N;
# the import keeps every code of its file in memory (to refuse a code named
# twice), so its max RSS does. Prints one table.
#
# Usage: bench/export_rss.sh [N...]   (BUILD=build by default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bin=$BUILD/shortd
[ -x "$bin" ] || make --no-print-directory "$bin" >/dev/null
[ -x /usr/bin/time ] || { echo "export_rss: needs GNU time (apt-get install time)" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
work=$(mktemp -d "${TMPDIR:-/tmp}/shortd-export-rss-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Prints "max_rss_kib seconds" of a command whose stdout goes to /dev/null.
measure() {
	/usr/bin/time -f '%M %e' -o "$work/time" "$@" >/dev/null
	cat "$work/time"
}

printf '%-10s %-14s %14s %10s\n' links command 'max RSS (KiB)' seconds
for n in "${sizes[@]}"; do
	db=$work/links-$n.db
	rm -f "$db" "$db-wal" "$db-shm"
	"$bin" init --db "$db" >/dev/null 2>&1
	python3 - "$n" >"$work/links-$n.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    w(json.dumps({"code": "b%d" % i, "url": "https://bench.example/a/fairly/long/path/%d?utm_source=bench" % i,
                  "title": "Link number %d" % i, "tags": ["bench", "t%d" % (i % 100)], "clicks": i,
                  "created_at": "2024-01-01T00:00:00Z"}, separators=(",", ":")) + "\n")
PY
	read -r rss secs < <(measure "$bin" import "$work/links-$n.jsonl" --db "$db")
	printf '%-10s %-14s %14s %10s\n' "$n" import "$rss" "$secs"
	for format in jsonl csv; do
		read -r rss secs < <(measure "$bin" export --db "$db" --format "$format")
		printf '%-10s %-14s %14s %10s\n' "$n" "export $format" "$rss" "$secs"
	done
	rm -f "$db" "$db-wal" "$db-shm" "$work/links-$n.jsonl"
done

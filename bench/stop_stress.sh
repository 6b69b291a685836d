#!/bin/bash
# Stop safety under load: ROUNDS (default 1000) SIGTERMs, each to a fresh
# `shortd serve --threads THREADS` (default 4) while h2load keeps CONNS
# keep-alive connections busy and wrk opens a new connection per request
# (`Connection: close`) over CONNS more, the signal coming a random 20-250 ms
# after the daemon said it listens. Each round must:
#   - exit 0 within 15 s;
#   - have written every click: the clicks in the database (clicks and
#     bot_clicks of the link) equal the 307s in the access log, the
#     daemon's own record of each redirect it answered, and are at least
#     the redirects wrk read in full.
# A round in which no request reached the daemon before the signal (the
# load generators still starting, on a busy machine) does not count: it is
# run again, up to ROUNDS such retries in all.
# Prints one line per failed round and a summary; exits 1 if any failed.
# Not part of `make check` (about 5 minutes); needs h2load, wrk and sqlite3.
#
#   ROUNDS=1000 THREADS=4 CONNS=8 bash bench/stop_stress.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-1000}
THREADS=${THREADS:-4}
CONNS=${CONNS:-8}
BUILD=${BUILD:-build}
export SHORTD_ADMIN_TOKEN=stop-stress-admin-token-0123456789ab

BENCH=stop_stress
. bench/common.sh
need "apt-get install nghttp2-client wrk sqlite3" h2load wrk sqlite3
build_shortd
out_dir bench/out/stop

# One database with the link, copied for every round.
rm -f "$OUT/template.db"*
"$SHORTD" init --db "$OUT/template.db" 2>/dev/null
sqlite3 "$OUT/template.db" >/dev/null "INSERT INTO links (code, url, status, created_at, updated_at)
	VALUES ('c', 'https://t.example/p', 307, 1700000000, 1700000000); PRAGMA wal_checkpoint(TRUNCATE);"

failed=0
round=0
unloaded=0
while [ "$round" -lt "$ROUNDS" ]; do
	round=$((round + 1))
	rm -f "$OUT/db"* "$OUT/access.log" "$OUT/err.log"
	cp "$OUT/template.db" "$OUT/db"
	"$SHORTD" serve --listen 127.0.0.1:0 --db "$OUT/db" --threads "$THREADS" \
		--access-log "$OUT/access.log" 2>"$OUT/err.log" &
	pid=$!
	for _ in $(seq 1 2000); do
		grep -q '^listening on' "$OUT/err.log" 2>/dev/null && break
		sleep 0.005
	done
	base=$(sed -n 's/^listening on //p' "$OUT/err.log")
	[ -n "$base" ] || die "round $round: the daemon did not start: $(cat "$OUT/err.log")"
	h2load --h1 -c"$CONNS" -D 30 "$base/c" >"$OUT/h2load.out" 2>&1 &
	h2=$!
	wrk -t1 -c"$CONNS" -d30s -H 'Connection: close' "$base/c" >"$OUT/wrk.out" 2>&1 &
	wk=$!
	sleep "0.$(printf '%03d' $((20 + RANDOM % 231)))"
	kill -TERM "$pid"
	rc=0
	for _ in $(seq 1 1500); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "round $round: still running 15 s after SIGTERM" >&2
		kill -KILL "$pid"
		rc=137
	fi
	wait "$pid" || rc=$?
	# The clients: wrk at SIGINT prints what it read; h2load would wait out
	# its 30 s, and killed prints nothing (its redirects count only in
	# the access log).
	kill -INT "$wk" 2>/dev/null || true
	wait "$wk" || true
	kill -TERM "$h2" 2>/dev/null || true
	wait "$h2" 2>/dev/null || true
	logged=$(grep -c '" 307 ' "$OUT/access.log" || true)
	stored=$("$SHORTD" export --db "$OUT/db" | python3 -c '
import json, sys
print(sum(l["clicks"] + l["bot_clicks"] for l in map(json.loads, sys.stdin) if l["code"] == "c"))')
	read=$(awk '/requests in/ {print $1}' "$OUT/wrk.out")
	read=${read:-0}
	if [ "$rc" = 0 ] && [ "$logged" = 0 ] && [ "$stored" = 0 ] && [ "$read" = 0 ] && [ "$unloaded" -lt "$ROUNDS" ]; then
		unloaded=$((unloaded + 1))
		round=$((round - 1))
		continue
	fi
	if [ "$rc" != 0 ] || [ "$stored" != "$logged" ] || [ "$stored" -lt "$read" ] || [ "$logged" = 0 ]; then
		echo "round $round: exit $rc, clicks stored $stored, redirects logged $logged, read by clients $read" >&2
		tail -3 "$OUT/err.log" >&2
		failed=$((failed + 1))
	fi
	if [ $((round % 100)) = 0 ]; then
		echo "stop_stress: $round rounds, $failed failed (last: $stored clicks)" >&2
	fi
done
echo "stop_stress: $ROUNDS SIGTERMs with $THREADS threads, $CONNS keep-alive + $CONNS new-connection clients:" \
	"$failed failed ($unloaded more rounds ran before any request arrived and were run again)"
[ "$failed" = 0 ]

#!/bin/sh
# Runs the suites of Check runners (tools/gen_runner.sh) side by side:
#   run_suites.sh JOBS RUNNER...
# JOBS suites at a time, each in a process of its own: every suite of each
# RUNNER, or only those named in $SUITES; the ones named in $SLOW_SUITES
# first, so that the run does not end waiting for one of them. A line for
# each suite as it ends (its Check summary and seconds), then the whole
# output of each one that failed; exits 1 when any failed. The environment
# (SHORTD_BIN, SHORTD_TEST_DB, CK_*) goes to every suite. Most suites wait on
# daemons more than they compute, so more jobs than CPUs pays.
set -eu
jobs=$1
shift
logs=$(mktemp -d "${TMPDIR:-/tmp}/shortd-suites-XXXXXX")
trap 'rm -rf "$logs"' EXIT
# One line a suite: RUNNER SUITE.
for r in "$@"; do
	if [ -n "${SUITES:-}" ]; then
		printf '%s\n' $SUITES > "$logs/list"
	else
		"$r" --list > "$logs/list"
	fi
	sed "s|^|$r |" "$logs/list"
done > "$logs/all"
if [ ! -s "$logs/all" ]; then
	echo "run_suites: no suites to run" >&2
	exit 1
fi
awk -v slow="${SLOW_SUITES:-}" '
	BEGIN { n = split(slow, a, " "); for (i = 1; i <= n; i++) rank[a[i]] = i }
	{ print (($2 in rank) ? rank[$2] : n + 1), NR, $0 }' "$logs/all" |
	sort -n -k1,1 -k2,2 | cut -d' ' -f3- > "$logs/order"
start=$(date +%s)
xargs -P "$jobs" -L 1 sh -c '
	t=$(date +%s)
	log="$0/$(basename "$1").$2"
	if "$1" "$2" > "$log.log" 2>&1; then r=ok; else r=FAILED; : > "$log.failed"; fi
	echo "$(basename "$1") $2: $(grep -E "^[0-9]+%: Checks" "$log.log" | tail -1) $r ($(($(date +%s) - t)) s)"
' "$logs" < "$logs/order" || true
n=$(wc -l < "$logs/order")
failed=0
for f in "$logs"/*.failed; do
	[ -e "$f" ] || continue
	failed=$((failed + 1))
	echo "=== ${f##*/} ==="
	cat "${f%.failed}.log"
done
echo "run_suites: $n suites, $jobs at a time, in $(($(date +%s) - start)) s; $failed failed"
[ "$failed" -eq 0 ]

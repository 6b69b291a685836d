#!/bin/sh
# Soak test, run by hand (not in CI): 30 s of mixed load on a daemon built
# with AddressSanitizer and UBSan: 95% redirects, 5% link creations through
# the API, 64 connections (wrk). It samples the daemon's RSS every 2 s, then
# stops it with SIGTERM and checks: no sanitizer report, no leak at exit
# (LeakSanitizer), exit status 0, every response a 302 or 201, and RSS flat
# once warm: no sample of the second half of the run more than 10% above the
# one at mid-run. (The first seconds fill SQLite's page caches, one per
# thread, and ASan's quarantine of freed blocks, kept at 16 MiB here.)
#
# Usage: bench/soak.sh [SECONDS]      (env: BUILD, default build/soak)
# Needs clang, wrk and curl (tools/deps.sh installs clang and curl; wrk is
# the Debian package of that name). Exit status 0 when every check passed.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
build=${BUILD:-build/soak}
token=soak-admin-token-0123456789abcdefghijklmnopq
codes=100
work=$(mktemp -d /tmp/shortd-soak-XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

for tool in clang wrk curl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "soak: $tool is not installed" >&2; exit 2; }
done
make --no-print-directory BUILD="$build" CC=clang \
	SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	"$build/shortd" >"$work/make.log" 2>&1 || { tail -20 "$work/make.log"; exit 2; }

# A small quarantine, so RSS shows the daemon's memory, not ASan's queue of
# freed blocks (256 MiB by default, which grows RSS for minutes).
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:quarantine_size_mb=16:log_path=$work/asan" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$work/ubsan" \
SHORTD_ADMIN_TOKEN=$token \
	"$build/shortd" serve --listen 127.0.0.1:0 --db "$work/soak.db" --threads 4 \
	--max-connections 1024 --max-connections-per-ip 512 2>"$work/stderr" &
pid=$!
port=""
for _ in $(seq 1 200); do
	port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/stderr")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { echo "soak: the daemon did not start" >&2; cat "$work/stderr" >&2; exit 1; }
base=http://127.0.0.1:$port

i=0
while [ $i -lt $codes ]; do
	status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' \
		-d "{\"url\":\"https://t.example/soak/$i\",\"code\":\"s$i\"}" "$base/api/v1/links")
	[ "$status" = 201 ] || { echo "soak: creating s$i answered $status" >&2; exit 1; }
	i=$((i + 1))
done

cat >"$work/mix.lua" <<EOF
-- One request in 20 creates a link (a generated code); the others click.
local n = 0
request = function()
	n = n + 1
	if n % 20 == 0 then
		return wrk.format("POST", "/api/v1/links",
			{["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"},
			'{"url":"https://t.example/new/' .. n .. '"}')
	end
	return wrk.format("GET", "/s" .. (n % $codes))
end
EOF

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
wrk -t 4 -c 64 -d "${secs}s" -s "$work/mix.lua" "$base" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
samples=""
t=0
while kill -0 "$wrk_pid" 2>/dev/null; do
	samples="$samples $t:$(rss)"
	sleep 2
	t=$((t + 2))
done
wait "$wrk_pid"
samples="$samples $t:$(rss)"

kill -TERM "$pid"
set +e
wait "$pid"
exit_status=$?
set -e
pid=""

echo "RSS samples (seconds:KiB):$samples"
sed -n '/Requests\/sec\|requests in\|Non-2xx\|Socket errors\|Latency/p' "$work/wrk.txt"
fail=0
if grep -q 'Non-2xx or 3xx' "$work/wrk.txt" || grep -q 'Socket errors' "$work/wrk.txt"; then
	echo "soak: FAIL: responses other than 2xx/3xx, or socket errors"
	fail=1
fi
if ls "$work"/asan* "$work"/ubsan* >/dev/null 2>&1; then
	echo "soak: FAIL: sanitizer report:"
	cat "$work"/asan* "$work"/ubsan* 2>/dev/null | head -40
	fail=1
fi
if [ "$exit_status" -ne 0 ]; then
	echo "soak: FAIL: the daemon exited with status $exit_status"
	fail=1
fi
half=$((secs / 2))
mid=$(echo "$samples" | tr ' ' '\n' | awk -F: -v h="$half" 'NF == 2 && $1 >= h { print $2; exit }')
peak=$(echo "$samples" | tr ' ' '\n' | awk -F: -v h="$half" 'NF == 2 && $1 >= h && $2 > m { m = $2 } END { print m }')
if [ -z "$mid" ] || [ "$peak" -gt $((mid + mid / 10)) ]; then
	echo "soak: FAIL: RSS grew in the second half: $mid KiB at ${half} s, peak $peak KiB"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "soak: PASS: no sanitizer report, no leak, exit 0, RSS $mid KiB at ${half} s, peak $peak KiB after"
exit "$fail"

#!/bin/sh
# Runs each libFuzzer driver BUILD/fuzz_NAME for SECONDS on a working copy of
# its committed seed corpus (tests/fuzz/corpus/NAME), with its dictionary
# (tests/fuzz/dict/NAME.dict; a target without one fails). New inputs go to
# BUILD/corpus/NAME, crashes to BUILD/crash-NAME-*; the committed corpus is
# only read. FUZZ_JOBS drivers run at a time (default: one per CPU), each on
# one core. Every target runs even when one fails; the exit status is 1 when
# any failed.
# Usage: run.sh BUILD SECONDS NAME...
set -u
build=$1
secs=$2
shift 2
here=$(dirname "$0")
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in
'' | *[!0-9]* | 0)
	echo "fuzz: FUZZ_JOBS=$jobs is not a number of drivers; running one at a time" >&2
	jobs=1
	;;
esac

# One driver; its verdict goes to BUILD/fuzz-NAME.status.
run_one() {
	name=$1
	work="$build/corpus/$name"
	mkdir -p "$work"
	maxlen=4096
	case $name in
	url_normalize | url_merge_query) maxlen=20000 ;;
	esac
	if [ ! -f "$here/dict/$name.dict" ]; then
		echo "fuzz: $name has no dictionary ($here/dict/$name.dict)" >"$build/fuzz-$name.log"
		echo fail >"$build/fuzz-$name.status"
		return
	fi
	if "$build/fuzz_$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/crash-$name-" -dict="$here/dict/$name.dict" \
		"$work" "$here/corpus/$name" >"$build/fuzz-$name.log" 2>&1; then
		echo pass >"$build/fuzz-$name.status"
	else
		echo fail >"$build/fuzz-$name.status"
	fi
}

# Its verdict, printed once it has run.
report() {
	r=$1
	if [ "$(cat "$build/fuzz-$r.status" 2>/dev/null)" = pass ]; then
		printf 'fuzz: %s: ' "$r"
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$build/fuzz-$r.log" | tr '\n' ' '
		echo
		npass=$((npass + 1))
	else
		echo "fuzz: $r failed:"
		tail -n 40 "$build/fuzz-$r.log"
		failed="$failed $r"
		nfail=$((nfail + 1))
	fi
}

failed=""
npass=0
nfail=0
echo "fuzz: $# drivers for ${secs}s each, $jobs at a time"
wave=""
for name in "$@"; do
	rm -f "$build/fuzz-$name.status"
	run_one "$name" &
	wave="$wave $name"
	if [ "$(echo $wave | wc -w)" -ge "$jobs" ]; then
		wait
		for n in $wave; do report "$n"; done
		wave=""
	fi
done
wait
for n in $wave; do report "$n"; done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (inputs in $build/crash-*)" >&2
fi
echo "fuzz: $npass passed, $nfail failed"
[ -z "$failed" ]

#!/bin/sh
# Runs each libFuzzer driver BUILD/fuzz_NAME for SECONDS on a working copy of
# its committed seed corpus (tests/fuzz/corpus/NAME), with its dictionary
# (tests/fuzz/dict/NAME.dict; a target without one fails). New inputs go to
# BUILD/corpus/NAME, crashes to BUILD/crash-NAME-*; the committed corpus is
# only read. Every target runs
# even when one fails; the exit status is 1 when any failed.
# Usage: run.sh BUILD SECONDS NAME...
set -u
build=$1
secs=$2
shift 2
here=$(dirname "$0")
failed=""
npass=0
nfail=0
for name in "$@"; do
	work="$build/corpus/$name"
	mkdir -p "$work"
	maxlen=4096
	case $name in
	url_normalize | url_merge_query) maxlen=20000 ;;
	esac
	if [ ! -f "$here/dict/$name.dict" ]; then
		echo "fuzz: $name has no dictionary ($here/dict/$name.dict)" >&2
		failed="$failed $name"
		nfail=$((nfail + 1))
		continue
	fi
	dict="-dict=$here/dict/$name.dict"
	echo "fuzz: $name for ${secs}s"
	if ! "$build/fuzz_$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/crash-$name-" $dict "$work" "$here/corpus/$name" \
		>"$build/fuzz-$name.log" 2>&1; then
		tail -n 40 "$build/fuzz-$name.log"
		failed="$failed $name"
		nfail=$((nfail + 1))
	else
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$build/fuzz-$name.log" | tr '\n' ' '
		echo
		npass=$((npass + 1))
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (inputs in $build/crash-*)" >&2
fi
echo "fuzz: $npass passed, $nfail failed"
[ -z "$failed" ]

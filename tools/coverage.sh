#!/bin/sh
# The steps of make coverage around the tests of a --coverage build:
#   coverage.sh prepare BUILD DATA   an empty .gcda, writable by all, under
#                                    DATA for every object of BUILD, so that
#                                    a daemon run as nobody can write its own
#   coverage.sh collect BUILD DATA   the .gcda written there, back beside
#                                    their objects for gcov
#   coverage.sh report BUILD LINE_FLOOR BRANCH_FLOOR GCOVR_FLAGS...
#                                    gcovr's line and branch summary per file,
#                                    the HTML report under BUILD/../coverage,
#                                    and a failure when src/ as a whole is
#                                    under either floor (percent)
# The tests run with GCOV_PREFIX=DATA GCOV_PREFIX_STRIP=0, so each process
# writes DATA/<absolute path of the object>.gcda.
set -eu
step=$1
build=$2
case $step in
prepare)
	data=$3
	rm -rf "$data"
	find "$build/obj" -name '*.gcda' -delete
	abs=$(cd "$build/obj" && pwd)
	find "$abs" -name '*.gcno' | while read -r gcno; do
		gcda="$data${gcno%.gcno}.gcda"
		mkdir -p "$(dirname "$gcda")"
		: >"$gcda"
		chmod 0666 "$gcda"
	done
	# Every directory on the way must be open to the daemon run as nobody.
	d=$data
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod 0755 "$d"
		d=$(dirname "$d")
	done
	find "$data" -type d -exec chmod 0755 {} +
	;;
collect)
	data=$3
	abs=$(cd "$build/obj" && pwd)
	[ -d "$data$abs" ] || exit 0
	(cd "$data$abs" && find . -name '*.gcda' -size +0) | while read -r f; do
		cp "$data$abs/$f" "$abs/$f"
	done
	;;
report)
	line_floor=$3
	branch_floor=$4
	shift 4
	out=$(dirname "$build")/coverage
	mkdir -p "$out/html"
	echo "coverage: lines, per file"
	gcovr "$@" "$build/obj"
	echo "coverage: branches, per file"
	gcovr "$@" --branches "$build/obj"
	gcovr "$@" --html-details "$out/html/index.html" --json-summary "$out/summary.json" "$build/obj"
	echo "coverage: HTML report in $out/html/index.html"
	python3 - "$out/summary.json" "$line_floor" "$branch_floor" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
# From the counts: gcovr's own percentages are rounded to one decimal.
lines = 100.0 * s["line_covered"] / max(s["line_total"], 1)
branches = 100.0 * s["branch_covered"] / max(s["branch_total"], 1)
lf, bf = float(sys.argv[2]), float(sys.argv[3])
print(f"coverage: src/ lines {lines:.2f}% (floor {lf:g}%), branches {branches:.2f}% (floor {bf:g}%)")
if lines < lf or branches < bf:
    print("coverage: under the floor", file=sys.stderr)
    sys.exit(1)
PY
	;;
*)
	echo "usage: coverage.sh prepare|collect|report BUILD ..." >&2
	exit 2
	;;
esac

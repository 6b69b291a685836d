#!/bin/bash
# The benchmark's thread table on a machine that has none of its packages,
# such as a many-core machine lent for a measurement: by hand only.
#
#   bash bench/device.sh pack
#       Here, on the machine that builds: builds shortd, the bare 302 and
#       paced_close as bench/run.sh does (bench/common.sh), fills
#       bench/out with N links (bench/fill.sh), and puts in
#       bench/out/device everything bench/run.sh calls there:
#         bin/    the programs: shortd, mhd302, paced_close, h2load, wrk,
#                 nginx, sqlite3, taskset, awk, and conns (bench/conns.c;
#                 with CONNS_PREV=<commit>, conns-prev too, built against
#                 that commit's connection table)
#         lib/    every shared library they load (ldd), and the dynamic
#                 loader itself
#         path/   one script a program, which runs it as
#                 lib/ld-linux-x86-64.so.2 --library-path lib bin/PROGRAM
#         data.tar.gz  links-N.db, uris-N.txt and map-N.conf
#       and prints the folder's size (about 33 MB at 100,000 links).
#
#   bash bench/device.sh run
#       There, in a copy of the checkout that holds bench/out/device:
#       checks that every bundled program loads and starts, unpacks the
#       data into bench/out, and runs bench/run.sh with path/ first in PATH and
#       nothing built. Knobs as bench/run.sh's, with other defaults:
#       THREADS="1 2 4 8" MODES="keepalive close" SERVERS="A B C" ROUNDS=2
#       DURATION=5 EXTRAS=0. Where RESULTS_DIR names a folder, results.tsv
#       is written there row by row and table.txt at the end, so that a
#       run cut short still leaves its rows.
#
#   bash bench/device.sh conns
#       There: bench/conns.sh on the bundled conns (and conns-prev, as P),
#       THREADS="1 2 4 8 16" unless given: the connection table's cost as
#       workers are added, without the network.
#
# With the device tool (a command runs at most 600 s): pack here, then
#   run carry=["bench/out/device"] command=
#     'THREADS="1 2" RESULTS_DIR=$OUT bash bench/device.sh run'
# and the same with THREADS="4 8" while the machine is still warm.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
BUILD=${BUILD:-build/bench}
BUNDLE=bench/out/device
BENCH=device
. bench/common.sh

# bundle_program NAME FILE: FILE as bin/NAME, its libraries in lib/, and
# path/NAME that runs it through the bundled loader
bundle_program() {
	local name=$1 file lib
	file=$(readlink -f "$2")
	cp "$file" "$BUNDLE/bin/$name"
	ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
		case $lib in
		*/ld-linux-x86-64.so.2) cp -L "$lib" "$BUNDLE/lib/ld-linux-x86-64.so.2" ;;
		*) cp -L "$lib" "$BUNDLE/lib/" ;;
		esac
	done
	cat >"$BUNDLE/path/$name" <<EOF
#!/bin/sh
d=\$(dirname "\$(readlink -f "\$0")")/..
exec "\$d/lib/ld-linux-x86-64.so.2" --library-path "\$d/lib" "\$d/bin/$name" "\$@"
EOF
	chmod +x "$BUNDLE/path/$name"
}

pack() {
	local tool
	need "apt-get install nghttp2-client wrk nginx-light sqlite3" h2load wrk nginx sqlite3 taskset awk cc \
		pkg-config ldd
	[ "$(uname -m)" = x86_64 ] || die "the bundle is for x86-64 machines"
	build_shortd
	out_dir bench/out
	build_clients
	. bench/fill.sh
	fill "$N"

	rm -rf "$BUNDLE"
	mkdir -p "$BUNDLE/bin" "$BUNDLE/lib" "$BUNDLE/path" "$BUNDLE/data"
	bundle_program shortd "$SHORTD"
	bundle_program mhd302 "$OUT/mhd302"
	bundle_program paced_close "$OUT/paced_close"
	for tool in h2load wrk nginx sqlite3 taskset awk; do
		bundle_program $tool "$(command -v $tool)"
	done
	make --no-print-directory BUILD="$BUILD" "$BUILD/libshortd.a" >/dev/null
	build_conns . "$BUILD/libshortd.a" "$OUT/conns"
	bundle_program conns "$OUT/conns"
	if [ -n "${CONNS_PREV:-}" ]; then
		build_conns_at "$CONNS_PREV" "$OUT/conns-prev"
		bundle_program conns-prev "$OUT/conns-prev"
	fi
	[ -f "$BUNDLE/lib/ld-linux-x86-64.so.2" ] || die "ldd named no dynamic loader"
	cp "$OUT/links-$N.db" "$OUT/uris-$N.txt" "$OUT/map-$N.conf" "$BUNDLE/data/"
	tar -C "$BUNDLE" -czf "$BUNDLE/data.tar.gz" data # 43 MB -> 7 MB at 100,000 links
	rm -r "$BUNDLE/data"
	pkg-config --modversion libmicrohttpd >"$BUNDLE/mhd-version"
	echo "$N" >"$BUNDLE/links"
	echo "device: $BUNDLE: $(du -sh "$BUNDLE" | cut -f1) ($N links); carry it and run: bash bench/device.sh run" >&2
}

# check_program NAME [ARGS...]: dies unless the bundled loader finds every
# library NAME needs and, with ARGS, NAME runs them and exits 0
check_program() {
	local name=$1 out
	shift
	out=$("$BUNDLE/lib/ld-linux-x86-64.so.2" --library-path "$BUNDLE/lib" --list "$BUNDLE/bin/$name" 2>&1) ||
		die "the bundled $name cannot be loaded: $out"
	case $out in *"not found"*) die "the bundled $name lacks a library: $(echo "$out" | grep 'not found')" ;; esac
	[ $# -eq 0 ] || "$BUNDLE/path/$name" "$@" >/dev/null 2>&1 ||
		die "the bundled $name does not run: $("$BUNDLE/path/$name" "$@" 2>&1 | head -3)"
}

run() {
	[ -x "$BUNDLE/path/shortd" ] || die "no bundle in $BUNDLE: run 'bash bench/device.sh pack' where shortd builds, and carry it"
	local n path out
	n=$(cat "$BUNDLE/links")
	path=$(cd "$BUNDLE/path" && pwd)
	check_program shortd --version
	check_program mhd302
	check_program paced_close
	check_program h2load --version
	check_program nginx -v
	check_program sqlite3 --version
	check_program taskset -c 0 true
	check_program awk 'BEGIN {exit 0}'
	check_program wrk # wrk -v exits 1
	out=$("$path/wrk" -v 2>&1 || true)
	case $out in wrk*) ;; *) die "the bundled wrk does not run: $(echo "$out" | head -3)" ;; esac
	mkdir -p bench/out
	tar -xzf "$BUNDLE/data.tar.gz" -C bench/out --strip-components=1
	rm -f "bench/out/links-$n.db-wal" "bench/out/links-$n.db-shm"
	ln -sf "$path/mhd302" bench/out/mhd302
	ln -sf "$path/paced_close" bench/out/paced_close
	local results=
	if [ -n "${RESULTS_DIR:-}" ]; then
		mkdir -p "$RESULTS_DIR"
		results=$(cd "$RESULTS_DIR" && pwd)/results.tsv
	fi
	PATH=$path:$PATH SHORTD=$path/shortd MHD_VERSION=$(cat "$BUNDLE/mhd-version") RESULTS=$results \
		N=$n THREADS=${THREADS:-1 2 4 8} MODES=${MODES:-keepalive close} SERVERS=${SERVERS:-A B C} \
		ROUNDS=${ROUNDS:-2} DURATION=${DURATION:-5} EXTRAS=${EXTRAS:-0} bash bench/run.sh
	if [ -n "$results" ]; then
		cp bench/out/table.txt "$(dirname "$results")/table.txt"
	fi
}

conns() {
	[ -x "$BUNDLE/path/conns" ] || die "no conns in $BUNDLE: run 'bash bench/device.sh pack' where shortd builds"
	local path prev=
	path=$(cd "$BUNDLE/path" && pwd)
	check_program conns
	if [ -x "$path/conns-prev" ]; then
		check_program conns-prev
		prev=$path/conns-prev
	fi
	PATH=$path:$PATH CONNS_A=$path/conns CONNS_P=$prev THREADS=${THREADS:-1 2 4 8 16} bash bench/conns.sh
}

case ${1:-} in
pack) pack ;;
run) run ;;
conns) conns ;;
*) die "usage: bash bench/device.sh pack|run|conns" ;;
esac

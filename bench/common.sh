# shellcheck shell=bash
# Sourced by the bench scripts once they are in the checkout's root, with
# BENCH set to the name their messages begin with. Gives:
#   die MESSAGE         prints "BENCH: MESSAGE" and exits 1
#   need HINT TOOL...   dies naming the first TOOL not in PATH and HINT (what
#                       to install)
#   build_shortd        makes $BUILD/shortd (BUILD, default build) and sets
#                       SHORTD to its absolute path
#   out_dir DIR         makes DIR and sets OUT to its absolute path
#   build_clients       compiles into $OUT the bare libmicrohttpd 302
#                       (bench/mhd302.c) and bench/paced_close.c
#   build_conns T L O   compiles bench/conns.c against tree T's table
#   build_conns_at C O  the same against commit C's table
#   stop_server         stops $SERVER_PID, if any, and waits for it
# and SERVER_PID, empty.

die() {
	echo "$BENCH: $*" >&2
	exit 1
}

need() {
	local hint=$1 tool
	shift
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool is missing ($hint)"
	done
}

build_shortd() {
	BUILD=${BUILD:-build}
	make --no-print-directory BUILD="$BUILD" "$BUILD/shortd" >/dev/null
	# shellcheck disable=SC2034 # for the sourcing script
	SHORTD=$(pwd)/$BUILD/shortd
}

out_dir() {
	mkdir -p "$1"
	OUT=$(cd "$1" && pwd)
}

build_clients() {
	# shellcheck disable=SC2046 # pkg-config's flags are words
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$OUT/mhd302" bench/mhd302.c \
		$(pkg-config --cflags --libs libmicrohttpd) -pthread
	cc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/paced_close" bench/paced_close.c
}

# build_conns TREE LIB OUT: bench/conns.c against TREE's include/ and LIB
# (that tree's libshortd.a), as OUT
build_conns() {
	# shellcheck disable=SC2046 # pkg-config's flags are words
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$1/include" -o "$3" bench/conns.c "$2" \
		$(pkg-config --libs libsodium) -pthread
}

# build_conns_at COMMIT OUT: build_conns against COMMIT's table, built in a
# git worktree that is removed afterwards, whether the build succeeds or not
build_conns_at() (
	tree=$(mktemp -d "${TMPDIR:-/tmp}/shortd-conns-tree-XXXXXX")
	trap 'git worktree remove --force "$tree/tree" >/dev/null 2>&1 || true; rm -rf "$tree"' EXIT
	git worktree add --detach -q "$tree/tree" "$1"
	make --no-print-directory -C "$tree/tree" BUILD=build build/libshortd.a >/dev/null
	build_conns "$tree/tree" "$tree/tree/build/libshortd.a" "$2"
)

SERVER_PID=
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
}

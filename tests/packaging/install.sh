#!/bin/sh
# Checks `make install`, `make uninstall` and `make run` as a packager and a
# new user meet them:
#  - install into a DESTDIR with PREFIX=/usr puts exactly the binary, the
#    man page, the systemd unit (its ExecStart pointing at the installed
#    binary) and the logrotate file; uninstall removes every one of them;
#  - the unit installed under a real prefix passes `systemd-analyze verify`
#    (which checks that ExecStart and ExecReload exist and that
#    `man shortd` finds the page) and the logrotate file parses;
#  - `make run` listens where SHORTD_LISTEN says;
#  - the man page's SYNOPSIS names every flag `shortd --help` shows.
# Usage: tests/packaging/install.sh (from the repository root, after make).
set -eu
fail() {
	echo "packaging: FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shortd-pkg-XXXXXX")
runpid=""
cleanup() {
	[ -n "$runpid" ] && /bin/kill -TERM -- "-$runpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# 1. DESTDIR install for a /usr package, then uninstall.
dest="$tmp/dest"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
files=$(cd "$dest" && find . -type f | sort | tr '\n' ' ')
unit=$(cd "$dest" && find . -name shortd.service)
case "$unit" in
./usr/lib/systemd/system/shortd.service | ./lib/systemd/system/shortd.service) ;;
*) fail "unit installed at '$unit', not in systemd's unit directory" ;;
esac
want=$(printf '%s\n' ./usr/bin/shortd ./usr/share/man/man1/shortd.1 "$unit" ./etc/logrotate.d/shortd | sort | tr '\n' ' ')
[ "$files" = "$want" ] || fail "make install put: $files; expected: $want"
[ -x "$dest/usr/bin/shortd" ] || fail "the binary is not executable"
grep -q '^ExecStart=/usr/bin/shortd serve ' "$dest/$unit" || fail "ExecStart does not use /usr/bin: $(grep ExecStart "$dest/$unit")"
! grep -q '@BINDIR@' "$dest/$unit" || fail "@BINDIR@ left in the unit"
make -s uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
left=$(cd "$dest" && find . -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "packaging: install and uninstall (DESTDIR, PREFIX=/usr): ok"

# 2. A real prefix, so the unit's commands exist where it says.
prefix="$tmp/prefix"
make -s install PREFIX="$prefix" SYSCONFDIR="$prefix/etc" >/dev/null
unit=$(find "$prefix" -name shortd.service)
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (tools/deps.sh installs systemd)"
# verify runs the unit through systemd's loader without a running systemd:
# it needs only the unit files on this machine (sysinit.target, ...).
out=$(cd "$tmp" && MANPATH="$prefix/share/man" systemd-analyze verify "$unit" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
command -v logrotate >/dev/null || fail "logrotate is missing (tools/deps.sh installs it)"
out=$(logrotate --debug --state "$tmp/logrotate.state" "$prefix/etc/logrotate.d/shortd" 2>&1) ||
	fail "logrotate --debug: $out"
echo "packaging: systemd-analyze verify and logrotate --debug: ok"

# 3. make run honours SHORTD_LISTEN (port 0: a free one, never 8080).
log="$tmp/run.log"
SHORTD_LISTEN=127.0.0.1:0 SHORTD_DB="$tmp/run.db" SHORTD_ADMIN_TOKEN= setsid make -s run >"$log" 2>&1 &
runpid=$!
i=0
while ! grep -q '^listening on ' "$log"; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "make run printed no 'listening on' line: $(cat "$log")"
	kill -0 "$runpid" 2>/dev/null || fail "make run exited: $(cat "$log")"
	sleep 0.1
done
line=$(grep '^listening on ' "$log")
case "$line" in
"listening on http://127.0.0.1:8080") fail "make run ignored SHORTD_LISTEN: $line" ;;
"listening on http://127.0.0.1:"*) ;;
*) fail "unexpected: $line" ;;
esac
[ -f "$tmp/run.db" ] || fail "make run did not use SHORTD_DB"
/bin/kill -TERM -- "-$runpid"
wait "$runpid" 2>/dev/null || true
runpid=""
echo "packaging: make run honours SHORTD_LISTEN and SHORTD_DB: ok"

# 4. The man page's SYNOPSIS names every flag of the usage.
synopsis=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' doc/shortd.1)
for flag in $(build/shortd --help | grep -o -e '--[a-z][a-z-]*' | sort -u); do
	troff=$(printf '%s' "$flag" | sed 's/-/\\-/g')
	printf '%s' "$synopsis" | grep -qF -e "$troff" || fail "doc/shortd.1's SYNOPSIS lacks $flag"
done
echo "packaging: the man page's SYNOPSIS names every flag of shortd --help: ok"

#!/bin/sh
# Installs the Debian packages shortd needs to build and test, when missing
# (python3 runs the README's examples; systemd, procps, logrotate and man-db
# check the installed unit and logrotate file; chromium, nodejs and npm run
# the admin page's browser tests, zbar-tools decodes QR codes, the fonts
# make their screenshots the same everywhere; gcovr reports make coverage;
# clang-format checks the tree's layout; postgresql is the server the
# PostgreSQL backend's tests start a throw-away cluster of, libpq-dev its
# client library).
# As root it runs apt-get; otherwise it prints the exact command to run.
set -eu
PKGS="build-essential pkg-config libmicrohttpd-dev libsqlite3-dev libjansson-dev \
libsodium-dev check libcurl4-openssl-dev curl clang libclang-rt-14-dev sqlite3 \
python3 systemd procps logrotate man-db dpkg-dev debian-archive-keyring \
nginx-light caddy openssl libqrencode-dev libpng-dev chromium zbar-tools fonts-dejavu-core \
gcovr clang-format postgresql libpq-dev"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
# node and npm may come from elsewhere (NodeSource's nodejs bundles npm, and
# conflicts with Debian's npm): any node >= 18 with its npm will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
else
	echo "deps: missing Debian packages; run:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi

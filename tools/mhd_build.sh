#!/bin/sh
# Builds one Debian release of libmicrohttpd into a private prefix, for
# building and testing shortd against a libmicrohttpd other than the
# system's (make check-mhd1).
#
#   sh tools/mhd_build.sh SUITE VERSION PREFIX
#   e.g. sh tools/mhd_build.sh trixie 1.0.1-4 $PWD/build/mhd-1.0.1
#
# The source package comes from Debian's archive through apt-get source,
# with apt's state kept under PREFIX.apt/ (the system's sources and lists
# are not touched). apt checks the suite's InRelease against
# debian-archive-keyring and each file of the package against the hashes
# that the signed Sources index lists; a file that does not match stops the
# build. Only what shortd needs is built: the shared library, no TLS, no
# documentation, examples, tools or test programs.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 SUITE VERSION PREFIX" >&2; exit 2; }
suite=$1
version=$2
prefix=$3
case $prefix in
/*) ;;
*) echo "mhd_build: PREFIX must be absolute: $prefix" >&2; exit 2 ;;
esac
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "mhd_build: $keyring missing (debian-archive-keyring)" >&2; exit 1; }

work=$prefix.apt
rm -rf "$work" "$prefix"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main" > "$work/sources.list"
apt_get() {
	apt-get -q -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
		-o APT::Sandbox::User=root -o Debug::NoLocking=1 \
		-o Acquire::AllowInsecureRepositories=false "$@"
}
apt_get update
(cd "$work/src" && apt_get source "libmicrohttpd=$version")
upstream=${version%-*}
tree=$work/src/libmicrohttpd-$upstream
[ -x "$tree/configure" ] || { echo "mhd_build: no source tree at $tree" >&2; exit 1; }

(
	cd "$tree"
	./configure -q --prefix="$prefix" --disable-static --disable-dependency-tracking \
		--disable-doc --disable-examples --disable-tools --disable-curl \
		--disable-https --without-gnutls
	make -s -j"$(nproc)"
	make -s install
)
rm -rf "$work"
# The stamp make looks for: written last, so an interrupted build reruns.
echo "$version" > "$prefix/debian-version"
echo "mhd_build: libmicrohttpd $version in $prefix"

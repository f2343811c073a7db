#!/usr/bin/env bash
# Stages ARCH's libraries for a cross build of ctmon in DIR: Debian's ARCH packages of every
# library ctmon links (and what they need at run time) and of the header-only ones, downloaded
# with `apt-get download` and unpacked with dpkg-deb, not installed (cmake/toolchains/
# debian-cross.cmake says why). Does nothing when DIR already holds the same package versions.
# Needs ARCH's package lists (packaging/debian/install-deps --cross ARCH), not root.
#
#   tests/cross/stage.sh ARCH DIR
set -euo pipefail

me=tests/cross/stage.sh
die() { echo "$me: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $me s390x|armhf|arm64|mipsel DIR"
arch=$1
case "$arch" in
  s390x|armhf|arm64|mipsel) ;;
  *) die "unknown architecture '$arch': expected s390x, armhf, arm64 or mipsel" ;;
esac
mkdir -p "$2"
sysroot=$(cd "$2" && pwd)
debs=$sysroot.debs
apt-cache show "zlib1g:$arch" >/dev/null 2>&1 ||
  die "apt has no $arch package lists: run 'packaging/debian/install-deps --cross $arch' as root"

# What ctmon links, for ARCH (their run-time dependencies follow), and the header-only
# libraries, which are the same on every architecture.
libraries="libnftnl-dev libmnl-dev libnftables-dev libsqlite3-dev libcurl4-openssl-dev libfmt-dev
           zlib1g-dev libmosquitto-dev libtomlplusplus-dev libmicrohttpd-dev catch2"
header_only="libeigen3-dev libcli11-dev nlohmann-json3-dev"
# Provided by the cross toolchain under /usr/<triplet> (and pkg-config is this machine's).
from_toolchain='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt-dev|libnsl-dev|libtirpc-dev|libgcc-s1|libstdc\+\+6|gcc-12-base|pkgconf|pkgconf-bin|pkg-config|rpcsvc-proto)$'

roots=()
for p in $libraries; do roots+=("$p:$arch"); done
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
                         --no-breaks --no-replaces --no-enhances "${roots[@]}" |
                       grep -v '^ ' | grep -E ":$arch\$" | sed "s/:$arch\$//" | grep -Ev "$from_toolchain" |
                       sort -u | sed "s/\$/:$arch/")
[ "${#closure[@]}" -gt 0 ] || die "apt-cache found no $arch packages for $libraries"
# shellcheck disable=SC2086 # one word per package is intended
mapfile -t wanted < <(apt-cache policy "${closure[@]}" $header_only |
                      awk '/^[^ ]/ {sub(/:$/, ""); p = $0} /^  Candidate:/ {print p "=" $2}' | sort)
[ "$(cat "$sysroot/.packages" 2>/dev/null)" != "$(printf '%s\n' "${wanted[@]}")" ] || exit 0

echo "$me: staging ${#wanted[@]} $arch packages in $sysroot"
rm -rf "$sysroot" "$debs"
mkdir -p "$debs" "$sysroot/usr/lib"
(cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "${wanted[@]}" >/dev/null) ||
  die "apt-get download of the $arch packages failed (network, or package lists out of date: apt-get update)"
# Merged /usr, as on the target: libraries that Debian still ships under /lib land in /usr/lib.
ln -s usr/lib "$sysroot/lib"
for deb in "$debs"/*.deb; do
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$sysroot" --keep-directory-symlink -f - || die "unpacking $deb failed"
done
rm -rf "$debs"
# Absolute links (libz.so -> /lib/<triplet>/libz.so.1) must point into the staging root.
find "$sysroot" -type l -lname '/*' -print0 | while IFS= read -r -d '' link; do
  ln -sfn "$sysroot$(readlink "$link")" "$link"
done
printf '%s\n' "${wanted[@]}" >"$sysroot/.packages"

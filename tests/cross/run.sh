#!/usr/bin/env bash
# Cross-builds ctmon's unit tests for another CPU with Debian's cross toolchain, runs them under
# qemu-user, and carries a database and a saved detector state between this machine and that CPU
# in both directions (tests/cross/endian_fixture.cpp).
#
#   tests/cross/run.sh ARCH [--install] [--build-dir DIR] [--host-fixture PATH] [--jobs N]
#
#   ARCH            s390x (64-bit big-endian, standing in for big-endian MIPS routers), armhf,
#                   arm64 or mipsel
#   --install       first install what this needs (root): packaging/debian/install-deps --cross
#                   ARCH (ARCH's package lists, g++-<triplet>, qemu-user)
#   --build-dir     where to stage ARCH's libraries and build (default build-cross/ARCH)
#   --host-fixture  this machine's cross_endian_fixture (default: built in DIR/host)
#   --jobs          parallel compile and test jobs (default 2)
#
# ARCH's libraries are Debian's ARCH packages, downloaded and unpacked into DIR/sysroot by
# tests/cross/stage.sh (cmake/toolchains/debian-cross.cmake says why they are not installed).
# Exit status: 0 all passed, 1 a step failed, 77 skipped because the toolchain, qemu-user or
# ARCH's package lists are missing (1 instead when CTMON_CROSS_REQUIRED=1, as in CI).
set -euo pipefail

me=tests/cross/run.sh
die() { echo "$me: $*" >&2; exit 1; }
usage() { echo "usage: $me s390x|armhf|arm64|mipsel [--install] [--build-dir DIR] [--host-fixture PATH] [--jobs N]" >&2; exit 1; }
skip() {
  if [ "${CTMON_CROSS_REQUIRED:-0}" = 1 ]; then die "$*"; fi
  echo "$me: skipped: $*" >&2
  exit 77
}

arch="" install=0 build_dir="" host_fixture="" jobs=2
while [ $# -gt 0 ]; do
  case "$1" in
    --install) install=1 ;;
    --build-dir) [ $# -ge 2 ] || usage; build_dir=$2; shift ;;
    --host-fixture) [ $# -ge 2 ] || usage; host_fixture=$2; shift ;;
    --jobs) [ $# -ge 2 ] || usage; jobs=$2; shift ;;
    -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "$me: unknown option '$1'" >&2; usage ;;
    *) [ -z "$arch" ] || usage; arch=$1 ;;
  esac
  shift
done
case "$arch" in
  s390x) triplet=s390x-linux-gnu qemu=qemu-s390x ;;
  armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm ;;
  arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64 ;;
  mipsel) triplet=mipsel-linux-gnu qemu=qemu-mipsel ;;
  "") usage ;;
  *) die "unknown architecture '$arch': expected s390x, armhf, arm64 or mipsel" ;;
esac
case "$jobs" in ''|*[!0-9]*|0) die "--jobs '$jobs': expected a positive whole number" ;; esac

# Minutes of compiling and emulating that nobody waits on interactively: at the lowest CPU
# priority, so that a timing-sensitive test beside it (CI runs the end-to-end router at the same
# time) keeps the CPU whenever it wants it.
renice -n 19 -p $$ >/dev/null 2>&1 || true

repo=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${build_dir:-$repo/build-cross/$arch}
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
sysroot=$build_dir/sysroot
started=$SECONDS
phase() { echo "== $me $arch: $* (at ${SECONDS}s)"; }

if [ "$install" = 1 ]; then
  phase "installing g++-$triplet, qemu-user and the $arch package lists"
  [ "$(id -u)" = 0 ] || die "--install needs root (it runs dpkg --add-architecture and apt-get install)"
  "$repo/packaging/debian/install-deps" --cross "$arch" || die "installing the $arch toolchain failed"
fi

command -v "$triplet-g++" >/dev/null ||
  skip "no $triplet-g++: install g++-$triplet, or run '$me $arch --install' as root"
command -v "$qemu" >/dev/null || skip "no $qemu: install qemu-user, or run '$me $arch --install' as root"
apt-cache show "zlib1g:$arch" >/dev/null 2>&1 ||
  skip "apt has no $arch package lists: run 'dpkg --add-architecture $arch && apt-get update', or '$me $arch --install', as root"

# ---- stage ARCH's libraries -------------------------------------------------------------------
phase "staging $arch's libraries in $sysroot"
"$repo/tests/cross/stage.sh" "$arch" "$sysroot" || die "staging $arch's libraries failed"

# ---- build and run the unit tests under qemu-user ----------------------------------------------
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
phase "configuring"
cmake -S "$repo" -B "$build_dir/build" --toolchain "$repo/cmake/toolchains/$arch.cmake" \
  -DCTMON_CROSS_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=Release -DCTMON_BENCH=OFF "${launcher[@]}" \
  >"$build_dir/configure.log" 2>&1 || { tail -n 30 "$build_dir/configure.log" >&2; die "configuring failed (log: $build_dir/configure.log)"; }
# Without the benchmarks, everything the build makes is what the unit tests run (the test
# executables and ctmon itself, for packaged_config_is_valid) plus cross_endian_fixture.
phase "building"
cmake --build "$build_dir/build" -j"$jobs" >"$build_dir/build.log" 2>&1 ||
  { grep -E 'error|Error' "$build_dir/build.log" | head -n 20 >&2; die "building failed (log: $build_dir/build.log)"; }
# The unit tests that run a program built for ARCH; the others (Python checks of the dashboards
# and the packaging) would only run this machine's Python again.
emulated=$(ctest --test-dir "$build_dir/build" -L unit --show-only=json-v1 | python3 -c '
import json, sys
tests = json.load(sys.stdin)["tests"]
print("|".join(t["name"] for t in tests if t.get("command", [""])[0].endswith(sys.argv[1])))' "/$qemu") ||
  die "listing the unit tests failed"
[ -n "$emulated" ] || die "no unit test runs under $qemu: is CMAKE_CROSSCOMPILING_EMULATOR set?"
phase "unit tests under $qemu"
ctest --test-dir "$build_dir/build" -L unit -R "^($emulated)\$" --output-on-failure -j"$jobs" ||
  die "unit tests failed under $qemu"

# ---- a database and a detector state carried across, both ways ---------------------------------
if [ -z "$host_fixture" ]; then
  phase "building this machine's cross_endian_fixture"
  cmake -S "$repo" -B "$build_dir/host" -DCMAKE_BUILD_TYPE=Release -DCTMON_BENCH=OFF "${launcher[@]}" \
    >"$build_dir/host-configure.log" 2>&1 || die "configuring the host build failed (log: $build_dir/host-configure.log)"
  cmake --build "$build_dir/host" -j"$jobs" --target cross_endian_fixture >"$build_dir/host-build.log" 2>&1 ||
    die "building the host fixture failed (log: $build_dir/host-build.log)"
  host_fixture=$build_dir/host/tests/cross/cross_endian_fixture
fi
[ -x "$host_fixture" ] || die "no host fixture at $host_fixture: build the target cross_endian_fixture"
target_fixture=("$qemu" -L "/usr/$triplet" -E "LD_LIBRARY_PATH=$sysroot/usr/lib/$triplet"
                "$build_dir/build/tests/cross/cross_endian_fixture")
here=$(uname -m)
carry=$build_dir/carry
rm -rf "$carry"
phase "written on $here, read on $arch"
"$host_fixture" write "$carry/from-$here" || die "writing on $here failed"
"${target_fixture[@]}" check "$carry/from-$here" || die "$arch reads what $here wrote differently"
phase "written on $arch, read on $here"
"${target_fixture[@]}" write "$carry/from-$arch" || die "writing on $arch failed"
"$host_fixture" check "$carry/from-$arch" || die "$here reads what $arch wrote differently"
phase "passed in $((SECONDS - started)) s"

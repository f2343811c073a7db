# IBM Z, 64-bit big-endian: stands in for big-endian MIPS routers (ath79), which Debian no longer builds.
set(CTMON_CROSS_TRIPLET s390x-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CTMON_CROSS_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)

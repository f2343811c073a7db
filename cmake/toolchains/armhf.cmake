# 32-bit ARM (ARMv7, hard float): most ARM home routers (ipq40xx, mvebu).
set(CTMON_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CTMON_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)

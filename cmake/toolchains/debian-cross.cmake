# Shared part of the cross toolchain files beside it (one per Debian architecture; each sets
# CTMON_CROSS_TRIPLET, CMAKE_SYSTEM_PROCESSOR and CTMON_CROSS_QEMU, then includes this file).
#
# The compiler is Debian's cross g++ (g++-<triplet>, with its own libc and libstdc++ under
# /usr/<triplet>). The libraries ctmon links (libnftnl, libmnl, libnftables, sqlite3, curl, fmt,
# zlib, toml++ and what they need at run time) and the header-only ones (Eigen, CLI11,
# nlohmann-json, Catch2) come from a staging root CTMON_CROSS_SYSROOT: Debian's packages for the
# target architecture unpacked with dpkg-deb, not installed. Installing them as multiarch
# packages would need the very same version as this machine's own packages, which fails
# whenever the security archive updated one for amd64 but carries none for the target
# (bookworm-security has no s390x nor mipsel). tests/cross/run.sh fills the root.
#
# Programs run under qemu-user: `-L /usr/<triplet>` gives the target's dynamic loader, libc and
# libstdc++; LD_LIBRARY_PATH (set for the target only, with -E) the staged libraries.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${CTMON_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${CTMON_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${CTMON_CROSS_TRIPLET})

if(NOT CTMON_CROSS_SYSROOT AND DEFINED ENV{CTMON_CROSS_SYSROOT})
  set(CTMON_CROSS_SYSROOT "$ENV{CTMON_CROSS_SYSROOT}")
endif()
if(NOT IS_DIRECTORY "${CTMON_CROSS_SYSROOT}/usr/lib/${CTMON_CROSS_TRIPLET}")
  message(FATAL_ERROR "CTMON_CROSS_SYSROOT='${CTMON_CROSS_SYSROOT}' holds no ${CTMON_CROSS_TRIPLET} "
                      "libraries: let tests/cross/run.sh stage them (or pass -DCTMON_CROSS_SYSROOT=DIR)")
endif()
# try_compile projects read this file again; they need the root too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CTMON_CROSS_SYSROOT CTMON_CROSS_TRIPLET CTMON_CROSS_QEMU)
set(ctmon_cross_libdir "${CTMON_CROSS_SYSROOT}/usr/lib/${CTMON_CROSS_TRIPLET}")

# Libraries, headers and CMake packages from the staging root only, never this machine's.
set(CMAKE_FIND_ROOT_PATH "${CTMON_CROSS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_LIBDIR} "${ctmon_cross_libdir}/pkgconfig:${CTMON_CROSS_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CTMON_CROSS_SYSROOT}")
# The staged libraries' own dependencies (libcurl's libssl, ...) are found at link time here.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${ctmon_cross_libdir}")

set(CMAKE_CROSSCOMPILING_EMULATOR ${CTMON_CROSS_QEMU} -L /usr/${CTMON_CROSS_TRIPLET}
                                  -E LD_LIBRARY_PATH=${ctmon_cross_libdir})

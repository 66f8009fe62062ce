# SPDX-License-Identifier: MIT
# Cross-compiling for aarch64 Linux with the Debian/Ubuntu cross toolchain (gcc-aarch64-linux-gnu),
# running the tests under user-mode QEMU (qemu-user):
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# ctest then starts every test executable (and add_test commands naming a target) through
# CMAKE_CROSSCOMPILING_EMULATOR, with the target's libraries from /usr/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ROPE_CROSS_TRIPLE aarch64-linux-gnu CACHE STRING "Cross toolchain prefix")
set(ROPE_CROSS_SYSROOT /usr/${ROPE_CROSS_TRIPLE} CACHE PATH "Target libraries for the emulator")

set(CMAKE_C_COMPILER ${ROPE_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ROPE_CROSS_TRIPLE}-g++)

find_program(ROPE_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(ROPE_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ROPE_QEMU_AARCH64} -L ${ROPE_CROSS_SYSROOT})
endif()

set(CMAKE_FIND_ROOT_PATH ${ROPE_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

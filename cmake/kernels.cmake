# SPDX-License-Identifier: MIT
# Instruction-set kernels: each file is compiled with its own flags, and registered in
# src/kernels/dispatch.c under ROPE_HAVE_<ISA>. The library itself stays runnable on any CPU of the
# architecture: the dispatcher only calls a kernel the running CPU supports, and the CPU test itself
# (x86_features.c) is compiled without instruction-set flags.
#
# No kernel is compiled with -mfma: the kernels must round every product before adding it, and
# without the flag not even an explicit fused-multiply-add intrinsic can slip in.
include(CheckCSourceCompiles)

set(ROPE_ISA_SOURCES "")
set(ROPE_ISA_DEFINES "")

# rope_add_isa(NAME FLAGS FILE...): the files of one instruction set (its kernel file, and any other
# per-ISA build such as the on-the-fly value block), each compiled with FLAGS.
macro(rope_add_isa name flags)
  list(APPEND ROPE_ISA_DEFINES ROPE_HAVE_${name})
  foreach(file ${ARGN})
    list(APPEND ROPE_ISA_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/${file} PROPERTIES COMPILE_OPTIONS "${flags}")
  endforeach()
endmacro()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(ROPE_AVX512_FLAGS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mf16c")
  list(APPEND ROPE_ISA_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/x86_features.c)
  rope_add_isa(AVX2 "-mavx2;-mf16c" src/kernels/avx2.c src/kernels/store_avx2.c src/cossin/fly_values_avx2.c)
  rope_add_isa(AVX512 "${ROPE_AVX512_FLAGS}" src/kernels/avx512.c src/kernels/store_avx512.c src/cossin/fly_values_avx512.c)
  # vcvtneps2bf16 (AVX512_BF16) for bf16 output, in its own file so that a compiler without it still
  # builds everything else; the CPU is asked at run time.
  set(CMAKE_REQUIRED_FLAGS "-mavx512f -mavx512bw -mavx512vl -mavx512bf16")
  check_c_source_compiles("
    #include <immintrin.h>
    int main(void) { __m256bh b = _mm512_cvtneps_pbh(_mm512_set1_ps(1.0f)); (void)b; return 0; }"
    ROPE_CC_HAS_AVX512BF16)
  unset(CMAKE_REQUIRED_FLAGS)
  if(ROPE_CC_HAS_AVX512BF16 AND "ROPE_HAVE_AVX512" IN_LIST ROPE_ISA_DEFINES)
    rope_add_isa(AVX512BF16 "${ROPE_AVX512_FLAGS};-mavx512bf16" src/kernels/avx512_bf16.c)
  endif()
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  rope_add_isa(NEON "" src/kernels/neon.c)
endif()

# Instruction-set kernels: each file is compiled with its own flags, and registered in
# src/kernels/dispatch.c under ROPE_HAVE_<ISA>. The library itself stays runnable on any CPU of the
# architecture: the dispatcher only calls a kernel the running CPU supports.
set(ROPE_ISA_SOURCES "")
set(ROPE_ISA_DEFINES "")

macro(rope_add_isa name file flags)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    list(APPEND ROPE_ISA_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/${file})
    list(APPEND ROPE_ISA_DEFINES ROPE_HAVE_${name})
    set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/${file} PROPERTIES COMPILE_OPTIONS "${flags}")
  endif()
endmacro()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  rope_add_isa(AVX2 src/kernels/avx2.c "-mavx2;-mfma;-mf16c")
  rope_add_isa(AVX512 src/kernels/avx512.c "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mf16c;-mfma")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  rope_add_isa(NEON src/kernels/neon.c "")
endif()

# Attention tests (owned by the attention area). cpu: references and methods, fast (< 20 s total);
# gpu: every CUDA kernel against the CPU oracle (exit 77 without a device).
set(VDIT_ATTN_TEST_COMMON ${CMAKE_CURRENT_SOURCE_DIR}/test_attn_common.c)
vdit_add_test(NAME test_attn_ref LABEL cpu SOURCES test_attn_ref.c ${VDIT_ATTN_TEST_COMMON} LIBS vdit_attention TIMEOUT 60)
vdit_add_test(NAME test_attn_mask LABEL cpu SOURCES test_attn_mask.c ${VDIT_ATTN_TEST_COMMON} LIBS vdit_attention TIMEOUT 60)
vdit_add_test(NAME test_attn_radial LABEL cpu SOURCES test_attn_radial.c ${VDIT_ATTN_TEST_COMMON} LIBS vdit_attention TIMEOUT 60)
# gpu tests also build without CUDA (the entry points then return VD_ERR_UNSUPPORTED) and skip.
foreach(t test_attn_flash_cuda test_attn_mask_cuda test_attn_radial_cuda)
  vdit_add_test(NAME ${t} LABEL gpu SOURCES gpu/${t}.c ${VDIT_ATTN_TEST_COMMON} LIBS vdit_attention TIMEOUT 600)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
endforeach()
# On sm_90 the flash tests above run the wgmma kernels of flash_wgmma.cu; these rerun them with
# VDIT_FLASH_KERNEL=mma on the mma.sync kernels of flash_fwd.cuh (other GPUs, D 64, 64-token tiles).
foreach(t test_attn_flash_cuda test_attn_radial_cuda)
  add_test(NAME ${t}_mma COMMAND ${t} WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(${t}_mma PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600
    ENVIRONMENT "VDIT_SOURCE_DIR=${PROJECT_SOURCE_DIR};VDIT_BINARY_DIR=${PROJECT_BINARY_DIR};OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE;VDIT_FLASH_KERNEL=mma")
endforeach()
# ... and with VDIT_WGMMA_PIPE=tma (TMA, block barrier per tile) / overlap / lockstep (cp.async
# loads) on the other wgmma pipelines (the default on sm_90: TMA with a producer warpgroup).
foreach(pipe tma overlap lockstep)
  add_test(NAME test_attn_flash_cuda_${pipe} COMMAND test_attn_flash_cuda WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(test_attn_flash_cuda_${pipe} PROPERTIES LABELS gpu SKIP_RETURN_CODE 77 TIMEOUT 600
    ENVIRONMENT "VDIT_SOURCE_DIR=${PROJECT_SOURCE_DIR};VDIT_BINARY_DIR=${PROJECT_BINARY_DIR};OMP_NUM_THREADS=2;OMP_WAIT_POLICY=PASSIVE;VDIT_WGMMA_PIPE=${pipe}")
endforeach()


# The flash kernel's body on the CPU through a warp-instruction emulator (C++ host code): catches
# fragment-layout and masking bugs in CI without a GPU. Needs a C++ compiler; skipped otherwise.
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  vdit_add_test(NAME test_attn_flash_emu LABEL cpu SOURCES test_attn_flash_emu.cpp ${VDIT_ATTN_TEST_COMMON} LIBS vdit_attention TIMEOUT 120)
  target_include_directories(test_attn_flash_emu PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(test_attn_flash_emu PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  target_compile_definitions(test_attn_flash_emu PRIVATE VD_FLASH_EMU=1)
  target_compile_options(test_attn_flash_emu PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas>)
endif()

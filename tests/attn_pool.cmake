# Producer-side tile pooling for the dynamic block mask (issue 5: mask building <= 5 % of the
# sparse attention time): the Wan RMSNorm + RoPE kernel's tile means (dit/wan_kernels.h) and the
# mask built from pre-pooled tiles (attention/mask_build.h). gpu label: exit 77 without a device;
# they also build without CUDA (the entry points then return VD_ERR_UNSUPPORTED).
vdit_add_test(NAME test_wan_rope_pool_cuda LABEL gpu SOURCES gpu/test_wan_rope_pool_cuda.c LIBS vdit_dit TIMEOUT 600)
vdit_add_test(NAME test_attn_mask_pooled_cuda LABEL gpu SOURCES gpu/test_attn_mask_pooled_cuda.c LIBS vdit_attention TIMEOUT 600)

# The two RMSNorm + RoPE kernel bodies (dit/wan_rms_rope.cuh) on the CPU through a thread /
# barrier / shuffle emulator (C++ host code): ownership, batching, ragged tiles and the layout
# of the means are checked in CI without a GPU. Needs a C++ compiler; skipped otherwise.
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  find_package(Threads REQUIRED)
  vdit_add_test(NAME test_wan_rope_pool_emu LABEL cpu SOURCES test_wan_rope_pool_emu.cpp LIBS vdit_dit Threads::Threads TIMEOUT 300)
  set_target_properties(test_wan_rope_pool_emu PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  target_compile_definitions(test_wan_rope_pool_emu PRIVATE VD_WAN_EMU=1)
  target_compile_options(test_wan_rope_pool_emu PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas>)
endif()

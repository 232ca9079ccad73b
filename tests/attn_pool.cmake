# Producer-side tile pooling for the dynamic block mask (issue 5: mask building <= 5 % of the
# sparse attention time): the Wan RMSNorm + RoPE kernel's tile means (dit/wan_kernels.h) and the
# mask built from pre-pooled tiles (attention/mask_build.h). gpu label: exit 77 without a device;
# they also build without CUDA (the entry points then return VD_ERR_UNSUPPORTED).
vdit_add_test(NAME test_wan_rope_pool_cuda LABEL gpu SOURCES gpu/test_wan_rope_pool_cuda.c LIBS vdit_dit TIMEOUT 600)
vdit_add_test(NAME test_attn_mask_pooled_cuda LABEL gpu SOURCES gpu/test_attn_mask_pooled_cuda.c LIBS vdit_attention TIMEOUT 600)

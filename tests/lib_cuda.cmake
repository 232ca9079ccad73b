# Tests of the CUDA foundation (lib/*.cu) and the shared Philox RNG.
vdit_add_test(NAME test_rng LABEL cpu SOURCES test_rng.c TIMEOUT 120)
vdit_add_test(NAME test_arena_cuda LABEL gpu SOURCES gpu/test_arena_cuda.c TIMEOUT 120)
vdit_add_test(NAME test_rng_cuda LABEL gpu SOURCES gpu/test_rng_cuda.c TIMEOUT 120)
vdit_add_test(NAME test_ops_cuda LABEL gpu SOURCES gpu/test_ops_cuda.c TIMEOUT 300)
vdit_add_test(NAME test_gemm_cuda LABEL gpu SOURCES gpu/test_gemm_cuda.c TIMEOUT 300)

# Tests of the CUDA foundation (lib/*.cu) and the shared Philox RNG.
vdit_add_test(NAME test_rng LABEL cpu SOURCES test_rng.c TIMEOUT 120)

# Wan2.1 DiT: CPU parity against diffusers fixtures (tests/data/dit, scripts/gen_dit_fixtures.py),
# layouts and bad inputs; the CLI (dit-forward, info) end to end; CUDA vs CPU (gpu label).
vdit_add_test(NAME test_wan_dit LABEL cpu SOURCES test_wan_dit.c wan_test_util.c LIBS vdit_dit TIMEOUT 300)
vdit_add_test(NAME test_wan_cli LABEL cpu SOURCES test_wan_cli.c wan_test_util.c LIBS vdit_dit TIMEOUT 300)
add_dependencies(test_wan_cli vdit)
vdit_add_test(NAME test_wan_dit_cuda LABEL gpu SOURCES gpu/test_wan_dit_cuda.c wan_test_util.c LIBS vdit_dit TIMEOUT 600)

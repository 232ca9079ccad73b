# Wan VAE decoder tests (issue 7). Fixtures: tests/data/vae (scripts/gen_vae_fixtures.py).
vdit_add_test(NAME test_vae LABEL cpu SOURCES test_vae.c LIBS vdit_dit TIMEOUT 300)
vdit_add_test(NAME test_vae_cuda LABEL gpu SOURCES gpu/test_vae_cuda.c LIBS vdit_dit TIMEOUT 600)

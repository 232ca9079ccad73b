# Wan VAE decoder tests (issue 7). Fixtures: tests/data/vae (scripts/gen_vae_fixtures.py).
vdit_add_test(NAME test_vae LABEL cpu SOURCES test_vae.c LIBS vdit_dit TIMEOUT 300)
vdit_add_test(NAME test_vae_cuda LABEL gpu SOURCES gpu/test_vae_cuda.c LIBS vdit_dit TIMEOUT 600)
vdit_add_test(NAME test_vae_direct_conv LABEL gpu SOURCES gpu/test_vae_direct_conv.c LIBS vdit_dit TIMEOUT 300)

# CLI: decode a fixture latent to frames + y4m (exit 0, frame count and size in the summary), and
# a latent with the wrong channel count for the VAE (exit 1 with a message naming both counts).
if(TARGET vdit)
  set(_vae_data ${CMAKE_CURRENT_SOURCE_DIR}/data/vae)
  add_test(NAME vae_cli_decode
    COMMAND sh -c "\"$<TARGET_FILE:vdit>\" vae-decode --vae ${_vae_data}/tiny3 --input ${_vae_data}/tiny3/cases.safetensors --tensor latent_0 --out ${CMAKE_CURRENT_BINARY_DIR}/vae_cli_frames.safetensors -o ${CMAKE_CURRENT_BINARY_DIR}/vae_cli.y4m 2>&1 | tee /dev/stderr | grep -q '9 frames 28x20' && test -s ${CMAKE_CURRENT_BINARY_DIR}/vae_cli.y4m && test -s ${CMAKE_CURRENT_BINARY_DIR}/vae_cli_frames.safetensors")
  add_test(NAME vae_cli_bad_channels
    COMMAND sh -c "out=$(\"$<TARGET_FILE:vdit>\" vae-decode --vae ${_vae_data}/wan4 --input ${_vae_data}/tiny3/cases.safetensors --tensor latent_0 --out ${CMAKE_CURRENT_BINARY_DIR}/vae_cli_bad.safetensors 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q 'has 4 channels; the VAE config has z_dim = 16'")
  set_tests_properties(vae_cli_decode vae_cli_bad_channels PROPERTIES LABELS cpu TIMEOUT 300
    ENVIRONMENT "OMP_NUM_THREADS=2")
endif()

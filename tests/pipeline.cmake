# Text-to-video pipeline and `vdit generate` (issue 8). Fixtures: scripts/gen_pipeline_fixtures.py
# (a tiny random WanPipeline saved by diffusers, and the frames diffusers made from a fixed latent).
# dit has no codecs dependency: the tests join them through the apps' frame sink (apps/frame_sink_video.c).
vdit_add_test(NAME test_pipeline LABEL cpu SOURCES test_pipeline.c pipeline_frames.c ${PROJECT_SOURCE_DIR}/apps/frame_sink_video.c
              LIBS vdit_dit vdit_codecs TIMEOUT 300)
vdit_add_test(NAME test_pipeline_cuda LABEL gpu SOURCES gpu/test_pipeline_cuda.c pipeline_frames.c ${PROJECT_SOURCE_DIR}/apps/frame_sink_video.c
              LIBS vdit_dit vdit_codecs TIMEOUT 300)
if(TARGET vdit)
  add_test(NAME test_generate_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_generate_cli.sh $<TARGET_FILE:vdit> ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_generate_cli PROPERTIES LABELS cpu TIMEOUT 300 ENVIRONMENT "OMP_NUM_THREADS=2")
endif()

# codecs tests (issue 3). All cpu: FFmpeg/libpng/stb paths are exercised when the build has them.
vdit_add_test(NAME test_codecs_writers LABEL cpu SOURCES test_codecs_writers.c LIBS vdit_codecs TIMEOUT 300)
vdit_add_test(NAME test_codecs_metrics LABEL cpu SOURCES test_codecs_metrics.c LIBS vdit_codecs)
vdit_add_test(NAME test_codecs_errors LABEL cpu SOURCES test_codecs_errors.c LIBS vdit_codecs TIMEOUT 300)
vdit_add_test(NAME test_codecs_image LABEL cpu SOURCES test_codecs_image.c LIBS vdit_codecs)
vdit_add_test(NAME test_codecs_grid LABEL cpu SOURCES test_codecs_grid.c LIBS vdit_codecs)
# End-to-end CLI test: runs the built vdit binary, so building this test builds vdit too.
vdit_add_test(NAME test_codecs_cli LABEL cpu SOURCES test_codecs_cli.c LIBS vdit_codecs TIMEOUT 300)
add_dependencies(test_codecs_cli vdit)
vdit_add_test(NAME test_codecs_y4m LABEL cpu SOURCES test_codecs_y4m.c LIBS vdit_codecs)

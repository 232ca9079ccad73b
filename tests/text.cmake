# Tokenizer and UMT5 text encoder (issue 6). Fixtures: scripts/gen_text_fixtures.py.
vdit_add_test(NAME test_tokenizer LABEL cpu SOURCES test_tokenizer.c LIBS vdit_dit TIMEOUT 120)
vdit_add_test(NAME test_umt5 LABEL cpu SOURCES test_umt5.c LIBS vdit_dit TIMEOUT 120)
vdit_add_test(NAME test_umt5_cuda LABEL gpu SOURCES gpu/test_umt5_cuda.c LIBS vdit_dit TIMEOUT 300)
add_test(NAME test_text_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/text_cli.sh $<TARGET_FILE:vdit> ${PROJECT_SOURCE_DIR})
set_tests_properties(test_text_cli PROPERTIES LABELS cpu TIMEOUT 120)

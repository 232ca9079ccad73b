vdit_add_test(NAME test_scheduler LABEL cpu SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_scheduler.c LIBS vdit_dit)

# safetensors reader/writer, the header fuzzer, `vdit inspect`, and the progress/stage-timing formatting.
vdit_add_test(NAME test_safetensors LABEL cpu SOURCES test_safetensors.c TIMEOUT 120)
vdit_add_test(NAME test_safetensors_malformed LABEL cpu SOURCES test_safetensors_malformed.c TIMEOUT 120)
vdit_add_test(NAME test_progress LABEL cpu SOURCES test_progress.c TIMEOUT 60)

# ---- libFuzzer target for vd_st_parse (clang only) ------------------------------------------
# Compiled outside the normal targets because it needs clang's -fsanitize=fuzzer runtime; the
# parser's sources and cJSON are compiled into it directly. The configure step checks that clang
# can link a trivial fuzzer (some clang installs lack the compiler-rt fuzzer library).
find_program(VDIT_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14)
if(VDIT_CLANG AND NOT DEFINED VDIT_CLANG_FUZZER_OK)
  set(_probe_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe)
  file(MAKE_DIRECTORY ${_probe_dir})
  file(WRITE ${_probe_dir}/probe.c
    "#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND ${VDIT_CLANG} -fsanitize=fuzzer,address,undefined ${_probe_dir}/probe.c -o ${_probe_dir}/probe
                  RESULT_VARIABLE _probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(_probe_rc EQUAL 0)
    set(VDIT_CLANG_FUZZER_OK ON CACHE INTERNAL "clang links -fsanitize=fuzzer")
  else()
    set(VDIT_CLANG_FUZZER_OK OFF CACHE INTERNAL "clang links -fsanitize=fuzzer")
  endif()
endif()

# Small valid files written by vd_st_write: the fuzzer's seeds and the interop test's input.
add_executable(st_make_seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/st_make_seeds.c)
vdit_target_setup(st_make_seeds)
target_link_libraries(st_make_seeds PRIVATE vdit_lib)

set(_fuzz_work ${CMAKE_CURRENT_BINARY_DIR}/fuzz_st_header.d)
if(VDIT_CLANG AND VDIT_CLANG_FUZZER_OK)
  message(STATUS "vdit: libFuzzer target fuzz_st_header enabled (${VDIT_CLANG})")
  set(_fuzz_bin ${CMAKE_CURRENT_BINARY_DIR}/fuzz_st_header)
  set(_fuzz_srcs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_st_header.c)
  foreach(f safetensors.c dtype.c status.c tensor.c log.c)
    list(APPEND _fuzz_srcs ${PROJECT_SOURCE_DIR}/lib/${f})
  endforeach()
  set(_fuzz_flags -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                  -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I${PROJECT_SOURCE_DIR})
  foreach(d ${CJSON_INCLUDE_DIRS})
    get_filename_component(_up ${d} DIRECTORY) # <cjson/cJSON.h> needs the parent of .../include/cjson
    list(APPEND _fuzz_flags -I${d} -I${_up})
  endforeach()
  set(_fuzz_link ${CJSON_LINK_LIBRARIES} -lm)
  foreach(d ${CJSON_LIBRARY_DIRS})
    list(APPEND _fuzz_link -Wl,-rpath,${d})
  endforeach()
  file(GLOB _lib_headers ${PROJECT_SOURCE_DIR}/lib/*.h)
  add_custom_command(OUTPUT ${_fuzz_bin}
    COMMAND ${VDIT_CLANG} ${_fuzz_flags} ${_fuzz_srcs} ${_fuzz_link} -o ${_fuzz_bin}
    DEPENDS ${_fuzz_srcs} ${_lib_headers}
    COMMENT "Building libFuzzer target fuzz_st_header with clang"
    VERBATIM)
  add_custom_target(fuzz_st_header ALL DEPENDS ${_fuzz_bin})
  # Seeds (valid small files from vd_st_write) are written fresh; the fuzzer then runs for a
  # bounded 20 s over them, with a dictionary of header tokens.
  add_test(NAME fuzz_st_header COMMAND sh -c
    "rm -rf '${_fuzz_work}' && mkdir -p '${_fuzz_work}/seeds' '${_fuzz_work}/corpus' && \
'$<TARGET_FILE:st_make_seeds>' '${_fuzz_work}/seeds' && \
'${_fuzz_bin}' -max_total_time=20 -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
-dict='${CMAKE_CURRENT_SOURCE_DIR}/fuzz/st_header.dict' -artifact_prefix='${_fuzz_work}/' \
'${_fuzz_work}/corpus' '${_fuzz_work}/seeds'")
else()
  message(STATUS "vdit: clang with libFuzzer not found: fuzz_st_header is skipped")
  add_test(NAME fuzz_st_header COMMAND sh -c "echo 'clang with -fsanitize=fuzzer not found: skipped'; exit 77")
endif()
set_tests_properties(fuzz_st_header PROPERTIES LABELS cpu SKIP_RETURN_CODE 77 TIMEOUT 120)

# ---- interop with the reference implementation (Python safetensors; skipped without it) -----
find_package(Python3 COMPONENTS Interpreter)
if(TARGET vdit AND Python3_Interpreter_FOUND)
  add_test(NAME test_safetensors_interop COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/st_interop.py
           $<TARGET_FILE:vdit> $<TARGET_FILE:test_safetensors> $<TARGET_FILE:st_make_seeds>
           ${CMAKE_CURRENT_BINARY_DIR}/st_interop.d)
  set_tests_properties(test_safetensors_interop PROPERTIES LABELS cpu SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()

# ---- vdit inspect: malformed files give a clear message and exit 1, usage errors exit 2 -----
if(TARGET vdit)
  add_test(NAME test_inspect_cli COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/inspect_check.sh $<TARGET_FILE:vdit>
           ${CMAKE_CURRENT_BINARY_DIR}/inspect_check.d)
  set_tests_properties(test_inspect_cli PROPERTIES LABELS cpu TIMEOUT 60)
endif()

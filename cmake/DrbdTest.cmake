# drbd_add_test(NAME SOURCES... LIBS ... LABELS ...): a GoogleTest binary registered with ctest.
# Every *_test.cc in the tree must be registered through it: drbd_verify_tests_registered()
# fails the configure step otherwise, so a test can never silently fall out of the build.
set_property(GLOBAL PROPERTY DRBD_REGISTERED_TESTS "")
include(GoogleTest)

function(drbd_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
  foreach(src ${T_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY DRBD_REGISTERED_TESTS ${abs})
  endforeach()
endfunction()

function(drbd_verify_tests_registered)
  file(GLOB_RECURSE all_tests LIST_DIRECTORIES false
       ${CMAKE_SOURCE_DIR}/lib/*_test.cc ${CMAKE_SOURCE_DIR}/drbdadm/*_test.cc
       ${CMAKE_SOURCE_DIR}/drbdsetup/*_test.cc ${CMAKE_SOURCE_DIR}/drbdmeta/*_test.cc
       ${CMAKE_SOURCE_DIR}/sim/*_test.cc ${CMAKE_SOURCE_DIR}/tests/*_test.cc)
  get_property(registered GLOBAL PROPERTY DRBD_REGISTERED_TESTS)
  foreach(t ${all_tests})
    list(FIND registered ${t} idx)
    if(idx EQUAL -1)
      message(FATAL_ERROR "test source ${t} is not registered with drbd_add_test()")
    endif()
  endforeach()
endfunction()

# drbd_add_fuzz_target(NAME SOURCE src LIBS libs... [INSTRUMENT libs...] [TEST_PREFIX p]
#                      [SEEDS dir | REPLAY_SCRIPT script] [REPLAY_TIMEOUT s] [DICT file]
#                      [SHORT_ARGS args...]): one fuzz target, built two ways.
# Always: NAME_replay (SOURCE + the seed replay main, any compiler) and the ctest
# <p>fuzz_seed_replay, which runs it over SEEDS (or runs `bash REPLAY_SCRIPT NAME_replay`).
# With -DDRBD_FUZZ=ON (clang): INSTRUMENT (default LIBS) get coverage instrumentation,
# NAME is the libFuzzer binary and <p>fuzz_libfuzzer_short a 20 s bounded run of it
# (with -dict=DICT when given, then SHORT_ARGS).
function(drbd_add_fuzz_target name)
  cmake_parse_arguments(F "" "SOURCE;SEEDS;DICT;TEST_PREFIX;REPLAY_SCRIPT;REPLAY_TIMEOUT"
                        "LIBS;INSTRUMENT;SHORT_ARGS" ${ARGN})
  if(NOT F_INSTRUMENT)
    set(F_INSTRUMENT ${F_LIBS})
  endif()
  if(NOT F_REPLAY_TIMEOUT)
    set(F_REPLAY_TIMEOUT 300)
  endif()
  set(out ${CMAKE_BINARY_DIR}/tests)

  add_executable(${name}_replay ${F_SOURCE} ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_replay_main.cc)
  target_link_libraries(${name}_replay PRIVATE ${F_LIBS})
  set_target_properties(${name}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out})
  if(F_REPLAY_SCRIPT)
    set(replay bash ${F_REPLAY_SCRIPT} $<TARGET_FILE:${name}_replay>)
  else()
    set(replay $<TARGET_FILE:${name}_replay> ${F_SEEDS})
  endif()
  add_test(NAME ${F_TEST_PREFIX}fuzz_seed_replay COMMAND ${replay})
  set_tests_properties(${F_TEST_PREFIX}fuzz_seed_replay
                       PROPERTIES LABELS fuzz TIMEOUT ${F_REPLAY_TIMEOUT})

  if(NOT DRBD_FUZZ)
    return()
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DRBD_FUZZ=ON needs clang (-DCMAKE_CXX_COMPILER=clang++)")
  endif()
  # Coverage for the code under test; its consumers link the sanitizer runtimes.
  foreach(lib ${F_INSTRUMENT})
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                                          -fno-omit-frame-pointer)
    target_link_options(${lib} INTERFACE -fsanitize=address,undefined)
  endforeach()
  add_executable(${name} ${F_SOURCE})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${out})
  set(short $<TARGET_FILE:${name}> -max_total_time=20 -timeout=5 -rss_limit_mb=2048)
  if(F_DICT)
    list(APPEND short -dict=${F_DICT})
  endif()
  add_test(NAME ${F_TEST_PREFIX}fuzz_libfuzzer_short COMMAND ${short} ${F_SHORT_ARGS})
  set_tests_properties(${F_TEST_PREFIX}fuzz_libfuzzer_short PROPERTIES LABELS fuzz TIMEOUT 120)
endfunction()

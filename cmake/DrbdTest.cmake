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

# scaleout_add_test(NAME <name> SOURCES <src...> [LIBRARIES <lib...>] [LABELS <label...>]
#                   [TIMEOUT <seconds>] [SERIAL])
#
# Builds one GoogleTest executable and registers each of its tests with CTest.
# Tests learn where the build put things through compile definitions:
#   SCALEOUT_TEST_PLUGIN_DIR   the in-tree plugins
#   SCALEOUT_TEST_HOST_BINARY  the `scaleout` executable
#   SCALEOUT_TEST_SOURCE_DIR   the source tree (fixtures, examples)
#   SCALEOUT_TEST_BINARY_DIR   the build tree
# SERIAL marks tests that start many processes or measure, so CTest runs them alone.
if(COMMAND scaleout_add_test)
  return()
endif()

function(scaleout_add_test)
  cmake_parse_arguments(T "SERIAL" "NAME;TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  if(NOT T_NAME OR NOT T_SOURCES)
    message(FATAL_ERROR "scaleout_add_test: NAME and SOURCES are required")
  endif()
  find_package(GTest REQUIRED)
  include(GoogleTest)
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
  target_link_libraries(${T_NAME} PRIVATE GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads
                                          ${T_LIBRARIES})
  target_compile_definitions(${T_NAME} PRIVATE
    SCALEOUT_TEST_PLUGIN_DIR="${SCALEOUT_PLUGIN_OUTPUT_DIR}"
    SCALEOUT_TEST_HOST_BINARY="${SCALEOUT_HOST_BINARY}"
    SCALEOUT_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SCALEOUT_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(props TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  if(T_SERIAL)
    list(APPEND props RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES ${props})
endfunction()

# scaleout_add_test(NAME <name> SOURCES <src...> [LIBRARIES <lib...>] [LABELS <label...>]
#                   [TIMEOUT <seconds>] [SERIAL] [PROCESSORS <n>] [POSTGRES])
#
# Builds one GoogleTest executable and registers each of its tests with CTest.
# Tests learn where the build put things through compile definitions:
#   SCALEOUT_TEST_PLUGIN_DIR   the in-tree plugins
#   SCALEOUT_TEST_HOST_BINARY  the `scaleout` executable
#   SCALEOUT_TEST_SOURCE_DIR   the source tree (fixtures, examples)
#   SCALEOUT_TEST_BINARY_DIR   the build tree
# SERIAL marks tests that measure or must have the machine to themselves, so
# CTest runs them alone. PROCESSORS <n> marks tests that keep n cores busy
# (a master, workers and task hosts): `ctest -j N` runs them beside other
# tests while the sum stays within N, so tests that mostly wait for their
# processes overlap instead of queueing. POSTGRES marks tests that use the
# PostgreSQL test server: they require the run's shared server (the
# scaleout_postgres fixture, tests/support/CMakeLists.txt) and attach to it.
#
# GoogleTest and GoogleMock are precompiled once (target scaleout_test_pch)
# and the header is reused by every test executable (SCALEOUT_TEST_PCH). It is
# on by default. With a precompiled header GCC 12 reports false
# -Warray-bounds/-Wstringop-overflow/-Wrestrict inside std::string at -O2 (the
# same sources are clean without the header), so the test executables, and
# only they, build without those warnings when optimized; the product keeps them. With ccache, set CCACHE_SLOPPINESS=pch_defines,time_macros
# (scripts/build.sh does) or test sources are not cached.
if(COMMAND scaleout_add_test)
  return()
endif()
option(SCALEOUT_TEST_PCH "Precompile the GoogleTest headers for the test executables" ON)

# The test executables' compile definitions; the PCH donor gets the same.
function(_scaleout_test_definitions target)
  target_compile_definitions(${target} PRIVATE
    SCALEOUT_TEST_PLUGIN_DIR="${SCALEOUT_PLUGIN_OUTPUT_DIR}"
    SCALEOUT_TEST_HOST_BINARY="${SCALEOUT_HOST_BINARY}"
    SCALEOUT_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    SCALEOUT_TEST_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(SCALEOUT_TEST_PCH AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    target_compile_options(${target} PRIVATE -Wno-array-bounds -Wno-stringop-overflow -Wno-restrict)
  endif()
endfunction()

# An executable (so its flags, -fPIE included, match the tests') that only
# builds the precompiled header the tests reuse.
function(_scaleout_test_pch_donor)
  if(TARGET scaleout_test_pch)
    return()
  endif()
  set(source "${PROJECT_BINARY_DIR}/scaleout_test_pch.cc")
  if(NOT EXISTS "${source}")
    file(WRITE "${source}" "int main() { return 0; }\n")
  endif()
  add_executable(scaleout_test_pch "${source}")
  set_target_properties(scaleout_test_pch PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                                     "${PROJECT_BINARY_DIR}/tests/pch")
  target_link_libraries(scaleout_test_pch PRIVATE GTest::gtest GTest::gmock Threads::Threads)
  _scaleout_test_definitions(scaleout_test_pch)
  target_precompile_headers(scaleout_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h>)
endfunction()

function(scaleout_add_test)
  cmake_parse_arguments(T "SERIAL;POSTGRES" "NAME;TIMEOUT;PROCESSORS" "SOURCES;LIBRARIES;LABELS"
                        ${ARGN})
  if(NOT T_NAME OR NOT T_SOURCES)
    message(FATAL_ERROR "scaleout_add_test: NAME and SOURCES are required")
  endif()
  find_package(GTest REQUIRED)
  include(GoogleTest)
  add_executable(${T_NAME} ${T_SOURCES})
  set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
  target_link_libraries(${T_NAME} PRIVATE GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads
                                          ${T_LIBRARIES})
  _scaleout_test_definitions(${T_NAME})
  if(SCALEOUT_TEST_PCH)
    _scaleout_test_pch_donor()
    target_precompile_headers(${T_NAME} REUSE_FROM scaleout_test_pch)
  endif()
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
  if(T_PROCESSORS)
    list(APPEND props PROCESSORS ${T_PROCESSORS})
  endif()
  if(T_POSTGRES)
    list(APPEND props FIXTURES_REQUIRED scaleout_postgres
         ENVIRONMENT "SCALEOUT_TEST_POSTGRES_STATE=${SCALEOUT_TEST_POSTGRES_STATE}")
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES ${props})
endfunction()

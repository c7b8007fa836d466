# scaleout_add_plugin(KIND <transport|storage|executor> NAME <name>
#                     SOURCES <src...> [LIBRARIES <lib...>]
#                     [TEST_SOURCES <src...>] [TEST_LIBRARIES <lib...>] [NO_INSTALL])
#
# Makes the plugin target `scaleout_<kind>_<name>`: a MODULE library named
# libscaleout_<kind>_<name>.so with hidden visibility (only the entry point
# made by SCALEOUT_PLUGIN is exported), no undefined symbols, an install rule
# into <libdir>/scaleout/plugins, and, when TEST_SOURCES are given and tests
# are built, its test executable `<target>_test`.
#
# The same file is installed with the SDK, so out-of-tree plugins use the
# same helper after find_package(scaleout).
if(COMMAND scaleout_add_plugin)
  return()
endif()

function(scaleout_add_plugin)
  cmake_parse_arguments(P "NO_INSTALL" "KIND;NAME" "SOURCES;LIBRARIES;TEST_SOURCES;TEST_LIBRARIES"
                        ${ARGN})
  if(NOT P_KIND MATCHES "^(transport|storage|executor)$")
    message(FATAL_ERROR "scaleout_add_plugin: KIND must be transport, storage or executor, got '${P_KIND}'")
  endif()
  if(NOT P_NAME MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR "scaleout_add_plugin: NAME must match [a-z0-9_]+, got '${P_NAME}'")
  endif()
  set(target scaleout_${P_KIND}_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  if(TARGET scaleout::sdk)
    target_link_libraries(${target} PRIVATE scaleout::sdk)
  endif()
  target_link_libraries(${target} PRIVATE ${P_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED SCALEOUT_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${SCALEOUT_PLUGIN_OUTPUT_DIR}")
  endif()
  # Catch missing symbols at link time, not at dlopen time. Sanitizer
  # runtimes are provided by the host executable, so skip it there.
  if(NOT SCALEOUT_SANITIZE)
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()
  if(NOT P_NO_INSTALL)
    if(NOT DEFINED SCALEOUT_PLUGIN_INSTALL_DIR)
      include(GNUInstallDirs)
      set(SCALEOUT_PLUGIN_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/scaleout/plugins")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION "${SCALEOUT_PLUGIN_INSTALL_DIR}")
  endif()
  if(P_TEST_SOURCES AND COMMAND scaleout_add_test AND SCALEOUT_BUILD_TESTS)
    scaleout_add_test(NAME ${target}_test SOURCES ${P_TEST_SOURCES}
                      LIBRARIES scaleout::sdk ${P_TEST_LIBRARIES})
    add_dependencies(${target}_test ${target})
  endif()
endfunction()

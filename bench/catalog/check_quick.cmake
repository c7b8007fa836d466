# Runs `catalog_bench --quick` and checks its JSON: it parses, has the four
# configurations, and each one completed at least one life cycle; then that an
# oversized --package-kib is refused with a clear error, that --events works,
# and that an unknown --event-guids is refused.
# Usage: cmake -DBENCH=<catalog_bench> -DPLUGIN_DIR=<plugins> -P check_quick.cmake
execute_process(COMMAND "${BENCH}" --quick --plugin-dir "${PLUGIN_DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "catalog_bench --quick failed (${rc}):\n${err}\n${out}")
endif()
string(JSON name ERROR_VARIABLE json_error GET "${out}" benchmark)
if(json_error OR NOT name STREQUAL "catalog_bench")
  message(FATAL_ERROR "catalog_bench printed no valid JSON (${json_error}):\n${out}")
endif()
string(JSON count LENGTH "${out}" configs)
if(NOT count EQUAL 4)
  message(FATAL_ERROR "expected 4 configurations, got ${count}:\n${out}")
endif()
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON lifecycles GET "${out}" configs ${i} lifecycles)
  string(JSON mode GET "${out}" configs ${i} mode)
  string(JSON sync GET "${out}" configs ${i} synchronous)
  if(lifecycles LESS 1)
    message(FATAL_ERROR "${mode} at synchronous=${sync} completed no life cycle:\n${out}")
  endif()
endforeach()
message(STATUS "catalog_bench --quick produced a complete JSON report")

# A package larger than the catalog accepts is refused before anything runs.
execute_process(COMMAND "${BENCH}" --package-kib 1000000 --plugin-dir "${PLUGIN_DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 2 OR NOT err MATCHES "--package-kib must be at most 65536")
  message(FATAL_ERROR "catalog_bench --package-kib 1000000: expected exit 2 and a clear "
                      "error, got ${rc}:\n${err}\n${out}")
endif()

# With events: each life cycle also stores one event (random GUIDs, the
# costlier kind), on a 2 MiB page cache, and the report says so.
execute_process(COMMAND "${BENCH}" --quick --mode group --synchronous FULL --events 1
                        --event-guids random --cache-mib 2 --plugin-dir "${PLUGIN_DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "catalog_bench --events 1 failed (${rc}):\n${err}\n${out}")
endif()
string(JSON events GET "${out}" events_per_lifecycle)
string(JSON guids GET "${out}" event_guids)
string(JSON cache GET "${out}" cache_mib)
string(JSON lifecycles GET "${out}" configs 0 lifecycles)
if(NOT events EQUAL 1 OR NOT guids STREQUAL "random" OR NOT cache EQUAL 2 OR lifecycles LESS 1)
  message(FATAL_ERROR "catalog_bench --events 1 --event-guids random reported ${events} events, "
                      "${guids} GUIDs, ${lifecycles} life cycles:\n${out}")
endif()

# An unknown kind of GUID is refused.
execute_process(COMMAND "${BENCH}" --event-guids sequential --plugin-dir "${PLUGIN_DIR}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 2 OR NOT err MATCHES "bad options")
  message(FATAL_ERROR "catalog_bench --event-guids sequential: expected exit 2, got ${rc}:\n${err}")
endif()

# Runs a quick dispatch_bench and checks its JSON: it parses, every phase
# finished (no timeout) and measured something. Never the targets, nor how
# many executions succeeded (the report's by_status says).
#
# Usage: cmake -DBENCH=<dispatch_bench> [-DMATRIX=ON] -P check_quick.cmake
#   without MATRIX: `dispatch_bench --quick`, one report (https + sqlite)
#   with MATRIX:    `dispatch_bench --quick --matrix` with smaller sizes: a
#                   whole report for each of the four combinations and a
#                   comparison of each figure across them. A combination this
#                   machine cannot run (no PostgreSQL) makes the test print
#                   "combination unavailable" last, which CTest reports as a
#                   skip (SKIP_REGULAR_EXPRESSION), once the others checked out.

# Fails unless `report` (one combination's JSON) is whole; `what` names it.
function(check_report report what)
  string(JSON complete GET "${report}" complete)
  if(NOT complete)
    message(FATAL_ERROR "${what}: a phase did not finish:\n${report}")
  endif()
  foreach(phase noop noop_one_call_each process)
    string(JSON executions GET "${report}" ${phase} executions)
    string(JSON terminal LENGTH "${report}" ${phase} by_status)
    string(JSON rate GET "${report}" ${phase} executions_per_second)
    if(executions LESS 1 OR terminal LESS 1 OR NOT rate GREATER 0)
      message(FATAL_ERROR "${what}: ${phase}: nothing measured:\n${report}")
    endif()
  endforeach()
  foreach(key setup_seconds latency.samples latency.p50_ms latency.p99_ms latency.unsettled
              latency.machine_steal_fraction process.bare_spawns_per_second
              process.ratio_to_bare process.cpu_ratio_to_bare
              process.bare_cpu_us_per_spawn.machine process.cpu_us_per_execution.machine_steal_fraction
              process.floor.spawns_per_second process.floor.cpu_ratio_to_bare
              process.floor.process_cpu_ratio_to_floor
              master_rss.peak_kb)
    string(REPLACE "." ";" path "${key}")
    string(JSON value ERROR_VARIABLE json_error GET "${report}" ${path})
    if(json_error)
      message(FATAL_ERROR "${what}: ${key} is missing (${json_error}):\n${report}")
    endif()
  endforeach()
  foreach(target noop_executions_per_second latency_p50_ms latency_p99_ms process_ratio_to_bare)
    string(JSON met ERROR_VARIABLE json_error GET "${report}" targets ${target} met)
    if(json_error)
      message(FATAL_ERROR "${what}: targets.${target}.met is missing (${json_error}):\n${report}")
    endif()
  endforeach()
endfunction()

set(args --quick)
if(MATRIX)
  # Small sizes: four clusters in one run, in CI.
  list(APPEND args --matrix -n 50 --process-n 20 --latency-samples 10)
endif()
execute_process(COMMAND "${BENCH}" ${args}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dispatch_bench ${args} failed (${rc}):\n${err}\n${out}")
endif()
string(JSON name ERROR_VARIABLE json_error GET "${out}" benchmark)
if(json_error OR NOT name STREQUAL "dispatch_bench")
  message(FATAL_ERROR "dispatch_bench printed no valid JSON (${json_error}):\n${out}")
endif()

if(NOT MATRIX)
  check_report("${out}" "dispatch_bench --quick")
  message(STATUS "dispatch_bench --quick produced a complete JSON report")
  return()
endif()

set(unavailable "")
set(ran "")
foreach(combination https_sqlite https_odbc_postgresql zmq_sqlite zmq_odbc_postgresql)
  string(JSON report ERROR_VARIABLE json_error GET "${out}" results ${combination})
  if(json_error)
    message(FATAL_ERROR "no report for ${combination} (${json_error}):\n${out}")
  endif()
  string(JSON why ERROR_VARIABLE json_error GET "${report}" unavailable)
  if(NOT json_error)
    list(APPEND unavailable "${combination}: ${why}")
    continue()
  endif()
  check_report("${report}" "${combination}")
  list(APPEND ran ${combination})
endforeach()
# The comparison has every figure of every combination that ran.
string(JSON figures LENGTH "${out}" comparison figures)
if(figures LESS 1)
  message(FATAL_ERROR "the comparison has no figures:\n${out}")
endif()
math(EXPR last "${figures} - 1")
foreach(i RANGE ${last})
  string(JSON figure MEMBER "${out}" comparison figures ${i})
  foreach(combination IN LISTS ran)
    string(JSON value ERROR_VARIABLE json_error GET "${out}" comparison figures ${figure} values
           ${combination})
    if(json_error)
      message(FATAL_ERROR "comparison: ${figure} has no value for ${combination}:\n${out}")
    endif()
  endforeach()
endforeach()
message(STATUS "dispatch_bench --quick --matrix: complete reports for ${ran}")
foreach(line IN LISTS unavailable)
  message(STATUS "combination unavailable: ${line}")
endforeach()

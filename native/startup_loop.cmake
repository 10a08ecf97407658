# Runs EXE RUNS times (cmake -DEXE=... -DRUNS=... -P startup_loop.cmake) and fails on the first non-zero exit: a race in
# the first call into the library shows up only in some fresh processes, so one run proves little.
foreach(run RANGE 1 ${RUNS})
  execute_process(COMMAND "${EXE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "run ${run} of ${RUNS}: exit '${rc}'\n${out}${err}")
  endif()
endforeach()
message(STATUS "${RUNS} fresh processes passed")

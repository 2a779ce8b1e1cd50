# Runs graph_import_fuzzer for SECONDS over a fresh copy of the seed corpus (so the
# checked-in seeds stay as they are). Fails on any crash, leak, sanitizer report or
# timeout (a hang: 10 s per input), printing libFuzzer's output.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
          -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
message(STATUS "graph_import_fuzz: ${runs}, exit ${rc}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "graph_import_fuzzer failed (exit ${rc}); inputs in ${WORK}/artifacts\n${err}")
endif()

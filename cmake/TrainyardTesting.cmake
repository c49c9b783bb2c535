find_package(GTest REQUIRED)
include(GoogleTest)

# trainyard_add_test(<name> SOURCES ... DEPENDS ...): one gtest binary per test file group.
function(trainyard_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} trainyard_test_support GTest::gtest_main
    trainyard_compile_options)
  # The code under test keeps its optimisation; the test code itself needs little, and
  # gtest-heavy files are most of CI's build: -O1 in release compiles them a third faster,
  # -O0 under the sanitizers another third.
  target_compile_options(${name} PRIVATE $<$<CONFIG:Release>:-O1>
    $<$<BOOL:${TRAINYARD_SANITIZE}>:-O0>)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "TRAINYARD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# trainyard_add_mpi_test(<name> SOURCES ... DEPENDS ... RANKS <n>...): one test program that
# mpirun starts once per rank count, as the ctest tests <name>_np<n>. More ranks than cores
# is expected (--oversubscribe), CI runs as root (--allow-run-as-root). OpenMPI's plugins
# keep allocations to exit and are unloaded before LeakSanitizer looks, leaving leaks no
# suppression can name: leak detection is off in these processes only (the in-process tests
# keep it for trainyard's own code); AddressSanitizer and UBSan stay on.
function(trainyard_add_mpi_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;RANKS" ${ARGN})
  find_package(MPI REQUIRED COMPONENTS C)
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} trainyard_mpi_gtest_main
    trainyard_test_support trainyard_compile_options)
  target_compile_options(${name} PRIVATE $<$<CONFIG:Release>:-O1>
    $<$<BOOL:${TRAINYARD_SANITIZE}>:-O0>)
  foreach(ranks ${ARG_RANKS})
    add_test(NAME ${name}_np${ranks}
      COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root ${MPIEXEC_NUMPROC_FLAG}
        ${ranks} $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_np${ranks} PROPERTIES TIMEOUT 300
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0")
  endforeach()
endfunction()

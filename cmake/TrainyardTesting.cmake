find_package(GTest REQUIRED)
include(GoogleTest)

# Flags every test program's own code compiles with. The code under test keeps its
# optimisation; the test code itself needs little, and gtest-heavy files are most of CI's
# build: -O1 in release compiles them a third faster, -O0 under the sanitizers another third.
function(trainyard_test_code_options target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O1>
    $<$<BOOL:${TRAINYARD_SANITIZE}>:-O0>)
  set_target_properties(${target} PROPERTIES TRAINYARD_TEST_CODE ON)
endfunction()

# One precompiled header of gtest, nlohmann/json and the standard headers the tests use,
# built once and reused by every test program (each file parses about a second less).
add_library(trainyard_test_precompiled STATIC ${PROJECT_SOURCE_DIR}/tests/support/precompiled.cpp)
target_link_libraries(trainyard_test_precompiled PRIVATE GTest::gtest nlohmann_json::nlohmann_json
  trainyard_compile_options)
trainyard_test_code_options(trainyard_test_precompiled)
target_precompile_headers(trainyard_test_precompiled PRIVATE
  <gtest/gtest.h> <nlohmann/json.hpp> <algorithm> <cmath> <cstdint> <cstring> <filesystem>
  <fstream> <functional> <map> <memory> <optional> <regex> <sstream> <string> <thread>
  <vector>)

# trainyard_add_test(<name> SOURCES ... DEPENDS ...): one gtest binary per test file group.
function(trainyard_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} trainyard_test_support GTest::gtest_main
    nlohmann_json::nlohmann_json trainyard_compile_options)
  trainyard_test_code_options(${name})
  target_precompile_headers(${name} REUSE_FROM trainyard_test_precompiled)
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
    trainyard_test_support nlohmann_json::nlohmann_json trainyard_compile_options)
  trainyard_test_code_options(${name})
  target_precompile_headers(${name} REUSE_FROM trainyard_test_precompiled)
  foreach(ranks ${ARG_RANKS})
    add_test(NAME ${name}_np${ranks}
      COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root ${MPIEXEC_NUMPROC_FLAG}
        ${ranks} $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_np${ranks} PROPERTIES TIMEOUT 300
      ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0")
  endforeach()
endfunction()

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

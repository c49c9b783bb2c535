find_package(GTest REQUIRED)
include(GoogleTest)

# trainyard_add_test(<name> SOURCES ... DEPENDS ...): one gtest binary per test file group.
function(trainyard_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} trainyard_test_support GTest::gtest_main
    trainyard_compile_options)
  # The code under test is built at -O3; the test code itself only needs -O1, which roughly
  # halves the compile time of gtest-heavy files and keeps CI within its budget.
  target_compile_options(${name} PRIVATE $<$<CONFIG:Release>:-O1>)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "TRAINYARD_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

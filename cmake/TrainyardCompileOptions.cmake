# Warnings, optimisation and sanitizer flags shared by every trainyard target.
add_library(trainyard_compile_options INTERFACE)
# Host C++ flags apply to .cpp files; nvcc gets its own (it passes host flags on with
# -Xcompiler and rejects most of them directly).
target_compile_options(trainyard_compile_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-error=deprecated-declarations>
  # Keyword-style options structs ({.epochs = 10}) leave the other fields at their defaults
  # on purpose.
  $<$<COMPILE_LANGUAGE:CXX>:-Wno-missing-field-initializers>
  # sqrt/exp never report through errno in trainyard; without this GCC keeps a scalar
  # errno path that stops loops with std::sqrt from vectorising.
  $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno>
  $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports impossible overlaps in std::string concatenation at -O3 (a false
  # positive fixed in GCC 13, bug 105329); other compilers keep the warning.
  target_compile_options(trainyard_compile_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  # The same family at -O1 in test code: copies of std::string built from the source-tree
  # paths tests are given (-DTRAINYARD_..._DIR) get impossible bounds reported, or not,
  # depending on the path's length, so a checkout's location could break the build.
  target_compile_options(trainyard_compile_options INTERFACE
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:$<TARGET_PROPERTY:TRAINYARD_TEST_CODE>>>:-Wno-array-bounds -Wno-stringop-overflow>)
endif()
if(TRAINYARD_NATIVE)
  target_compile_options(trainyard_compile_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
endif()
if(TRAINYARD_FUZZ)
  # Coverage instrumentation for libFuzzer in every library; the fuzz targets themselves link
  # -fsanitize=fuzzer, which brings libFuzzer's main.
  target_compile_options(trainyard_compile_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(trainyard_compile_options INTERFACE -fsanitize=address,undefined)
elseif(TRAINYARD_SANITIZE)
  target_compile_options(trainyard_compile_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # A test program's own code (TRAINYARD_TEST_CODE, set by trainyard_add_test) leaves out
  # UBSan's null and alignment checks: they instrument every pointer use, and in gtest-heavy
  # files cost a third of the sanitizer build. trainyard's libraries, where the data's
  # pointers are, keep every check; AddressSanitizer still covers the tests' own memory.
  target_compile_options(trainyard_compile_options INTERFACE
    $<$<BOOL:$<TARGET_PROPERTY:TRAINYARD_TEST_CODE>>:-fno-sanitize=null,alignment>)
  target_link_options(trainyard_compile_options INTERFACE -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC's manual warns that sanitizers raise the rate of false -Wmaybe-uninitialized
    # reports (GCC 12 flags std::regex's own internals); the release build keeps the warning.
    target_compile_options(trainyard_compile_options INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()

# lld links the ~60 test programs in a third of the time GNU ld takes; used where installed
# (scripts/setup installs it), GNU ld otherwise.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld trainyard_has_lld)
if(trainyard_has_lld)
  target_link_options(trainyard_compile_options INTERFACE -fuse-ld=lld)
endif()

# trainyard_add_library(<layer> SOURCES ... DEPENDS ...): one static library per layer.
function(trainyard_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(trainyard_${name} STATIC ${ARG_SOURCES})
  add_library(trainyard::${name} ALIAS trainyard_${name})
  target_include_directories(trainyard_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(trainyard_${name}
    PUBLIC trainyard_compile_options ${ARG_DEPENDS}
    PRIVATE ${ARG_PRIVATE_DEPENDS})
endfunction()

# trainyard_link_cuda(<target>): gives a program the CUDA backend when the build has it, so
# Device("cuda:N") works there; without CUDA it is a no-op and the program runs on the CPU.
function(trainyard_link_cuda target)
  if(TRAINYARD_CUDA)
    target_link_libraries(${target} PRIVATE trainyard::backend_cuda)
  endif()
endfunction()

# trainyard_compile_alone(<target> <source>...): sources that define file-local names another
# source of <target> defines too (or whose calls another file's names would capture), compiled
# on their own when the sanitizer build batches a target's files into unity sources.
function(trainyard_compile_alone target)
  list(TRANSFORM ARGN PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/")
  set_source_files_properties(${ARGN} TARGET_DIRECTORY ${target}
    PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endfunction()

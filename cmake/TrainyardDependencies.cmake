# Every dependency comes from Debian's packages; scripts/setup installs them.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)

# OpenBLAS: link the pthread build directly so openblas_set_num_threads is available and
# the libblas.so.3 alternative (possibly the slow reference BLAS) never decides our speed.
find_path(OPENBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/aarch64-linux-gnu/openblas-pthread
        /usr/include/openblas NO_DEFAULT_PATH)
find_library(OPENBLAS_LIBRARY openblas
  PATHS /usr/lib/x86_64-linux-gnu/openblas-pthread /usr/lib/aarch64-linux-gnu/openblas-pthread
  NO_DEFAULT_PATH)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: run scripts/setup (Debian package libopenblas-dev)")
endif()
add_library(trainyard_openblas INTERFACE)
target_include_directories(trainyard_openblas SYSTEM INTERFACE ${OPENBLAS_INCLUDE_DIR})
target_link_libraries(trainyard_openblas INTERFACE ${OPENBLAS_LIBRARY})

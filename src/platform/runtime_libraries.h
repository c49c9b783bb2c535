// The GPU and cluster libraries trainyard loads at run time (cuDNN, cuBLAS, NCCL, Open MPI),
// found and asked for their versions the way a training process would find them: dlopen by
// soname, then the CUDA toolkit's own folder.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace trainyard::platform {

// One library as found on this host.
struct LibraryProbe {
  std::string name;                    // "cuDNN"
  std::optional<std::string> version;  // "9.10.2"; empty when the library was not found
  std::string location;                // what opened: a soname or a path
  std::string error;                   // why none of the candidates opened

  bool found() const { return version.has_value(); }
};

struct RuntimeLibraries {
  LibraryProbe cudnn{"cuDNN"};
  LibraryProbe cublas{"cuBLAS"};
  LibraryProbe nccl{"NCCL"};
  LibraryProbe openmpi{"Open MPI"};
  std::optional<std::string> mpirun;  // the mpirun program on PATH; empty when absent

  // Probes this host. Never throws; a library that cannot be opened or asked stays unfound
  // with the loader's reason.
  static RuntimeLibraries detect();
};

// Decodes NCCL's version number: 22304 is 2.23.4 (NCCL 2.9 and later), 2708 is 2.7.8.
std::string nccl_version_text(int code);
// Decodes cuDNN's: 91002 is 9.10.2 (cuDNN 9), 8907 is 8.9.7 (cuDNN 8).
std::string cudnn_version_text(long long code);
// The leading "Open MPI v4.1.4" of MPI_Get_library_version's text, without the "v".
std::string openmpi_version_text(const std::string& library_version);
// The first regular file named `program` in the directories of PATH, or nullopt.
std::optional<std::string> find_on_path(const std::string& program);

}  // namespace trainyard::platform

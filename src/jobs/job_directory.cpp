#include "jobs/job_directory.h"

#include <system_error>

#include "core/error.h"

namespace trainyard::jobs {

JobDirectory::JobDirectory(const std::filesystem::path& data_dir, const std::string& job_name)
    : root_(data_dir / "jobs" / job_name) {}

JobDirectory JobDirectory::for_host(int host_index) const {
  if (host_index == 0) return *this;
  return JobDirectory(root_ / "hosts" / ("algo-" + std::to_string(host_index + 1)));
}

void JobDirectory::create() const {
  for (const auto& directory : {config(), data(), model(), output_data(), checkpoints(), code()}) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
      throw IOError("cannot create job directory " + directory.string() + ": " + error.message());
    }
  }
}

}  // namespace trainyard::jobs

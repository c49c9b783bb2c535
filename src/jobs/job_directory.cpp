#include "jobs/job_directory.h"

#include <system_error>

#include "core/error.h"

namespace trainyard::jobs {

JobDirectory::JobDirectory(const std::filesystem::path& data_dir, const std::string& job_name)
    : root_(data_dir / "jobs" / job_name) {}

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

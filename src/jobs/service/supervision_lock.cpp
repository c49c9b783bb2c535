#include "jobs/service/supervision_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "core/error.h"

namespace trainyard::jobs {
namespace {

int open_lock_file(const std::filesystem::path& job_root) {
  std::error_code error;
  std::filesystem::create_directories(job_root, error);
  std::filesystem::path path = job_root / "supervisor.lock";
  int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (descriptor < 0) {
    throw IOError("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  return descriptor;
}

}  // namespace

std::optional<SupervisionLock> SupervisionLock::try_acquire(const std::filesystem::path& job_root) {
  int descriptor = open_lock_file(job_root);
  if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
    ::close(descriptor);
    return std::nullopt;
  }
  return SupervisionLock(descriptor);
}

bool SupervisionLock::held_by_someone(const std::filesystem::path& job_root) {
  std::optional<SupervisionLock> lock = try_acquire(job_root);
  return !lock.has_value();
}

SupervisionLock::SupervisionLock(SupervisionLock&& other) noexcept
    : descriptor_(other.descriptor_) {
  other.descriptor_ = -1;
}

SupervisionLock& SupervisionLock::operator=(SupervisionLock&& other) noexcept {
  if (this != &other) {
    if (descriptor_ >= 0) ::close(descriptor_);
    descriptor_ = other.descriptor_;
    other.descriptor_ = -1;
  }
  return *this;
}

SupervisionLock::~SupervisionLock() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

}  // namespace trainyard::jobs

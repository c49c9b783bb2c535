// SupervisionLock: marks the one trainyard process that is running (supervising) a job. It
// is an exclusive flock on <job>/supervisor.lock, which the kernel releases when that
// process dies however it dies, so another trainyard can tell a job whose supervisor is
// gone (and adopt or finish it) from one that is in good hands.
#pragma once

#include <filesystem>
#include <optional>

namespace trainyard::jobs {

class SupervisionLock {
 public:
  // Takes the lock of the job whose directory root is `job_root` (created if missing), or
  // returns nullopt when another process holds it. Throws IOError when the lock file
  // cannot be opened.
  static std::optional<SupervisionLock> try_acquire(const std::filesystem::path& job_root);
  // True when some process holds the lock of `job_root` now.
  static bool held_by_someone(const std::filesystem::path& job_root);

  SupervisionLock(SupervisionLock&& other) noexcept;
  SupervisionLock& operator=(SupervisionLock&& other) noexcept;
  SupervisionLock(const SupervisionLock&) = delete;
  SupervisionLock& operator=(const SupervisionLock&) = delete;
  ~SupervisionLock();

 private:
  explicit SupervisionLock(int descriptor) : descriptor_(descriptor) {}
  int descriptor_ = -1;
};

}  // namespace trainyard::jobs

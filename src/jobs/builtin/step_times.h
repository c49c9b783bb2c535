// When a fit() ran its first and last training steps, in wall-clock time, so a benchmark
// can tell the time around training (process start, staging, upload) from training itself:
// bench/job_overhead.sh compares a `trainyard train` job with a bare run of the trainer.
// The built-in trainer records these when TRAINYARD_STEP_TIMES_FILE names a file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "keras/callback.h"

namespace trainyard::jobs::builtin {

// The environment variable naming the file the built-in trainer writes the times to.
inline constexpr const char* kStepTimesFileVariable = "TRAINYARD_STEP_TIMES_FILE";

// Microseconds since the Unix epoch on CLOCK_REALTIME: comparable across processes, so a
// caller's timestamps taken before exec and after exit line up with the trainer's.
int64_t realtime_microseconds();

// A fit() callback recording when the first training step began and the last one ended.
// Costs two clock reads per step, and runs only when the trainer was asked for the times.
class StepTimesRecorder : public keras::Callback {
 public:
  bool wants_batch_events() const override { return true; }
  void on_train_batch_begin(int64_t batch) override;
  void on_train_batch_end(int64_t batch, const keras::BatchLogs& logs) override;

  // Training steps seen so far (over all epochs).
  int64_t steps() const { return steps_; }
  // Unset until the first step has begun.
  std::optional<int64_t> first_step_begin_us() const { return first_step_begin_us_; }
  // Unset until a step has ended; then the end of the latest.
  std::optional<int64_t> last_step_end_us() const { return last_step_end_us_; }

  // One JSON object: {"clock": "CLOCK_REALTIME", "unit": "us", "steps": N,
  // "first_step_begin_us": T0, "last_step_end_us": T1}; the times are null without steps.
  std::string to_json() const;

 private:
  int64_t steps_ = 0;
  std::optional<int64_t> first_step_begin_us_;
  std::optional<int64_t> last_step_end_us_;
};

}  // namespace trainyard::jobs::builtin

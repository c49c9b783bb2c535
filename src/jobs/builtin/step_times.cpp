#include "jobs/builtin/step_times.h"

#include <time.h>

#include <nlohmann/json.hpp>

namespace trainyard::jobs::builtin {

int64_t realtime_microseconds() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t(now.tv_sec) * 1'000'000 + int64_t(now.tv_nsec) / 1'000;
}

void StepTimesRecorder::on_train_batch_begin(int64_t /*batch*/) {
  if (!first_step_begin_us_) first_step_begin_us_ = realtime_microseconds();
}

void StepTimesRecorder::on_train_batch_end(int64_t /*batch*/, const keras::BatchLogs& /*logs*/) {
  last_step_end_us_ = realtime_microseconds();
  ++steps_;
}

std::string StepTimesRecorder::to_json() const {
  nlohmann::ordered_json object;
  object["clock"] = "CLOCK_REALTIME";
  object["unit"] = "us";
  object["steps"] = steps_;
  // Integers, not seconds as doubles: microseconds since 1970 need 16 digits, exactly.
  object["first_step_begin_us"] =
      first_step_begin_us_ ? nlohmann::ordered_json(*first_step_begin_us_) : nullptr;
  object["last_step_end_us"] =
      last_step_end_us_ ? nlohmann::ordered_json(*last_step_end_us_) : nullptr;
  return object.dump() + "\n";
}

}  // namespace trainyard::jobs::builtin

#include "advisor/training_cost.h"

#include <string>

#include "core/error.h"

namespace trainyard::advisor {

RunEstimate estimate_run(double step_seconds, const RunShape& shape,
                         std::optional<double> price_usd_per_hour, int instances) {
  if (shape.samples_per_epoch <= 0 || shape.global_batch <= 0 || shape.epochs <= 0) {
    throw ValueError("run estimate: samples (" + std::to_string(shape.samples_per_epoch) +
                     "), batch size (" + std::to_string(shape.global_batch) + ") and epochs (" +
                     std::to_string(shape.epochs) + ") must be positive");
  }
  RunEstimate estimate;
  estimate.steps_per_epoch =
      (shape.samples_per_epoch + shape.global_batch - 1) / shape.global_batch;
  estimate.epoch_seconds = step_seconds * static_cast<double>(estimate.steps_per_epoch);
  estimate.total_seconds = shape.startup_seconds + shape.epochs * estimate.epoch_seconds;
  if (price_usd_per_hour) {
    estimate.cost_usd = estimate.total_seconds / 3600 * *price_usd_per_hour * instances;
  }
  return estimate;
}

}  // namespace trainyard::advisor

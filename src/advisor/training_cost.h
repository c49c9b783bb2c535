// A training run's wall time and price from its step time: steps per epoch from the
// dataset size, epochs, a startup term, and the catalog's hourly price per instance.
#pragma once

#include <cstdint>
#include <optional>

namespace trainyard::advisor {

// Provisioning, image pull and data download before the first step, as SageMaker jobs
// commonly take; billed like the rest of the run.
inline constexpr double kDefaultStartupSeconds = 300;

struct RunShape {
  int64_t samples_per_epoch = 0;
  int64_t global_batch = 0;
  int epochs = 1;
  double startup_seconds = kDefaultStartupSeconds;
};

struct RunEstimate {
  int64_t steps_per_epoch = 0;
  double epoch_seconds = 0;
  double total_seconds = 0;        // startup + epochs x epoch
  std::optional<double> cost_usd;  // empty when the price is unknown
};

// Throws ValueError when samples, batch or epochs is not positive.
RunEstimate estimate_run(double step_seconds, const RunShape& shape,
                         std::optional<double> price_usd_per_hour, int instances);

}  // namespace trainyard::advisor

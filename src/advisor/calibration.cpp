#include "advisor/calibration.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "advisor/flops.h"
#include "core/error.h"
#include "core/tensor.h"
#include "keras/model.h"
#include "platform/host_resources.h"

namespace trainyard::advisor {
namespace {

constexpr double kAssumedClockHz = 3e9;
constexpr int kTimedSteps = 3;

// The first "cpu MHz" line of /proc/cpuinfo, in Hz; 0 when there is none.
double cpuinfo_clock_hz() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (!line.starts_with("cpu MHz")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    try {
      return std::stod(line.substr(colon + 1)) * 1e6;
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

// A zero batch of `batch` samples in `shape` ([batch, ...] with any batch size).
Tensor zero_batch(const Shape& shape, int64_t batch) {
  std::vector<int64_t> dims = shape.dims();
  dims[0] = batch;
  return Tensor::zeros(Shape(dims));
}

}  // namespace

CpuPeak this_cpu_peak() {
  CpuPeak peak;
  peak.cores = std::max(1, platform::HostResources::detect().vcpus);
  const double measured = cpuinfo_clock_hz();
  peak.clock_measured = measured > 0;
  peak.clock_hz = peak.clock_measured ? measured : kAssumedClockHz;
  return peak;
}

std::string Calibration::describe() const {
  char text[320];
  std::snprintf(text, sizeof text,
                "Calibration: %.4g s per step of %lld samples on this CPU = %.3g GFLOP/s; peak "
                "%d cores x %.2f GHz%s x 32 FLOP/cycle = %.3g GFLOP/s; efficiency %.3f.",
                seconds_per_step, static_cast<long long>(batch), achieved_flops_per_second / 1e9,
                peak.cores, peak.clock_hz / 1e9, peak.clock_measured ? "" : " (assumed)",
                peak.flops_per_second() / 1e9, efficiency);
  return text;
}

Calibration calibrate_on_this_host(keras::Model& model, int64_t batch) {
  if (batch < 1)
    throw ValueError("calibration batch must be at least 1, got " + std::to_string(batch));
  const ModelFlops flops = count_flops(model);  // throws when the model is not built
  model.compile({.optimizer = "sgd", .loss = "mean_squared_error"});
  std::vector<Tensor> inputs;
  for (const Shape& shape : model.input_shapes()) inputs.push_back(zero_batch(shape, batch));
  std::vector<Tensor> targets;
  for (const Shape& shape : model.compute_output_shapes(model.input_shapes())) {
    targets.push_back(zero_batch(shape, batch));
  }
  model.train_on_batch(inputs, targets);  // warm-up: plans, allocations, first-touch pages
  const auto start = std::chrono::steady_clock::now();
  for (int step = 0; step < kTimedSteps; ++step) model.train_on_batch(inputs, targets);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  Calibration calibration;
  calibration.batch = batch;
  calibration.seconds_per_step = elapsed.count() / kTimedSteps;
  calibration.achieved_flops_per_second = static_cast<double>(flops.training_per_sample()) *
                                          static_cast<double>(batch) / calibration.seconds_per_step;
  calibration.peak = this_cpu_peak();
  calibration.efficiency =
      std::min(1.0, calibration.achieved_flops_per_second / calibration.peak.flops_per_second());
  return calibration;
}

}  // namespace trainyard::advisor

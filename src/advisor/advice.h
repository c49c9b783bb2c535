// The instance advice behind `trainyard advise`: every NVIDIA GPU type of a catalog at
// 1..max instances, judged (can this build run it, does the step fit, how long, how much),
// ranked, and the recommendation with its reasoning. docs/advisor.md explains the rules.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "advisor/gpu_peak_rates.h"
#include "advisor/step_time.h"
#include "advisor/training_cost.h"
#include "platform/build_targets.h"
#include "platform/instance_catalog.h"

namespace trainyard::advisor {

// What a known model brings: the work per sample, the gradients to all-reduce and the op
// calls of its step (StepActivations::calls).
struct ModelWorkload {
  int64_t training_flops_per_sample = 0;
  int64_t gradient_bytes = 0;
  RunShape run;
  int64_t calls_per_step = 0;
};

// Bytes one GPU needs at a per-GPU batch, or empty when unknown.
using MemoryNeeded = std::function<std::optional<uint64_t>(int64_t per_gpu_batch)>;

struct AdviceOptions {
  std::optional<double> deadline_seconds;
  std::optional<double> budget_usd;
  int max_instances = 1;
  Precision precision = Precision::kFloat32;
  // A share of peak measured on this host; empty: each architecture's default.
  std::optional<double> measured_efficiency;
};

// One instance type at one count.
struct Candidate {
  const platform::InstanceType* type = nullptr;
  int instances = 1;
  int total_gpus = 1;
  double efficiency = 0;
  std::optional<double> peak_flops_per_gpu;  // empty: no data sheet figures
  std::optional<uint64_t> memory_needed_bytes;
  std::optional<bool> fits;  // empty: memory need unknown
  std::optional<StepTime> step;
  std::optional<RunEstimate> run;
  // Without a model: peak x efficiency x GPUs per USD/hour, in FLOP/s per (USD/hour).
  std::optional<double> throughput_per_dollar;
  bool meets_constraints = false;  // ranked ahead; the first is the recommendation
  std::string note;                // why it is not eligible, when it is not
};

struct Rejection {
  const platform::InstanceType* type = nullptr;
  std::string reason;
};

struct Advice {
  bool model_known = false;
  std::vector<Candidate> ranked;  // best first
  std::vector<Rejection> rejected;
  std::optional<size_t> recommended;  // index into ranked
  std::string reasoning;              // one paragraph
};

// The reason `type` cannot run trainyard built for `build`, or empty when it can. Types
// older than CUDA 13's oldest architecture are always rejected.
std::optional<std::string> architecture_rejection(const platform::InstanceType& type,
                                                  const platform::BuildTargets& build);

// Judges every NVIDIA GPU type of `catalog` (local-mode types aside). Without `workload`
// types are ranked by throughput per dollar at one instance. `memory_needed` may be empty.
Advice advise(const platform::InstanceCatalog& catalog,
              const std::optional<ModelWorkload>& workload, const MemoryNeeded& memory_needed,
              const AdviceOptions& options, const platform::BuildTargets& build);

}  // namespace trainyard::advisor

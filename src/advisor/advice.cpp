#include "advisor/advice.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "advisor/duration.h"
#include "advisor/link_bandwidth.h"
#include "core/error.h"

namespace trainyard::advisor {
namespace {

using platform::InstanceType;

std::string money(double usd) {
  char text[32];
  std::snprintf(text, sizeof text, "$%.2f", usd);
  return text;
}

std::string label(const Candidate& candidate) {
  return candidate.type->name + " x" + std::to_string(candidate.instances);
}

// Memory, peak rate and the step for one type and count.
Candidate judge(const InstanceType& type, int instances,
                const std::optional<ModelWorkload>& workload, const MemoryNeeded& memory_needed,
                const AdviceOptions& options) {
  Candidate candidate;
  candidate.type = &type;
  candidate.instances = instances;
  candidate.total_gpus = instances * type.gpu_count().value_or(0);
  candidate.efficiency =
      options.measured_efficiency.value_or(default_efficiency(type.accelerator_architecture));
  if (auto rates = gpu_peak_rates(type.accelerator_model)) {
    candidate.peak_flops_per_gpu = rates->at(options.precision);
  }
  if (!workload) {
    if (candidate.peak_flops_per_gpu && type.price_usd_per_hour) {
      candidate.throughput_per_dollar = *candidate.peak_flops_per_gpu * candidate.efficiency *
                                        candidate.total_gpus / *type.price_usd_per_hour;
    }
    return candidate;
  }
  const int64_t global_batch = workload->run.global_batch;
  const int64_t per_gpu_batch = (global_batch + candidate.total_gpus - 1) / candidate.total_gpus;
  if (memory_needed) candidate.memory_needed_bytes = memory_needed(per_gpu_batch);
  if (candidate.memory_needed_bytes && type.accelerator_memory_gib) {
    candidate.fits = static_cast<double>(*candidate.memory_needed_bytes) <=
                     *type.accelerator_memory_gib * 1024 * 1024 * 1024;
  }
  if (!candidate.peak_flops_per_gpu) return candidate;
  const StepInputs inputs{.training_flops_per_sample = workload->training_flops_per_sample,
                          .global_batch = global_batch,
                          .total_gpus = candidate.total_gpus,
                          .instances = instances,
                          .peak_flops_per_gpu = *candidate.peak_flops_per_gpu,
                          .efficiency = candidate.efficiency,
                          .calls_per_step = workload->calls_per_step,
                          .seconds_per_call = seconds_per_call(type.accelerator_architecture),
                          .gradient_bytes = workload->gradient_bytes,
                          .intra_instance_bytes_per_second = intra_instance_bandwidth(type),
                          .inter_instance_bytes_per_second = inter_instance_bandwidth(type)};
  candidate.step = estimate_step_time(inputs);
  candidate.run =
      estimate_run(candidate.step->seconds(), workload->run, type.price_usd_per_hour, instances);
  return candidate;
}

// Sets meets_constraints and note from the options.
void apply_constraints(Candidate& candidate, bool model_known, const AdviceOptions& options) {
  if (!candidate.peak_flops_per_gpu) {
    candidate.note = "no peak-rate figures for " + candidate.type->accelerator_model;
    return;
  }
  if (!model_known) {
    candidate.meets_constraints = candidate.throughput_per_dollar.has_value();
    if (!candidate.meets_constraints) candidate.note = "price unknown";
    return;
  }
  if (candidate.fits == false) {
    candidate.note = "does not fit GPU memory";
    return;
  }
  const RunEstimate& run = *candidate.run;
  const bool needs_price = options.deadline_seconds || options.budget_usd;
  if (needs_price && !run.cost_usd) {
    candidate.note = "price unknown";
    return;
  }
  if (options.deadline_seconds && run.total_seconds > *options.deadline_seconds) {
    candidate.note = "misses the deadline";
    return;
  }
  if (options.budget_usd && *run.cost_usd > *options.budget_usd) {
    candidate.note = "over budget";
    return;
  }
  candidate.meets_constraints = true;
}

// Rounds away float noise so equal estimates tie and the next key decides.
double rounded(double value) {
  return std::round(value * 1e6) / 1e6;
}

// The ordering: candidates that meet the constraints first, then by the objective (cost
// with a deadline, else time; throughput per dollar without a model), then cost, fewer
// instances and the type name.
bool better(const Candidate& a, const Candidate& b, bool model_known,
            const AdviceOptions& options) {
  if (a.meets_constraints != b.meets_constraints) return a.meets_constraints;
  constexpr double kUnknown = 1e300;
  if (!model_known) {
    const double a_rate = -a.throughput_per_dollar.value_or(-0.0);
    const double b_rate = -b.throughput_per_dollar.value_or(-0.0);
    return std::tuple(rounded(a_rate / 1e9), a.type->name) <
           std::tuple(rounded(b_rate / 1e9), b.type->name);
  }
  auto time_of = [&](const Candidate& c) {
    return c.run ? rounded(c.run->total_seconds) : kUnknown;
  };
  auto cost_of = [&](const Candidate& c) {
    return c.run && c.run->cost_usd ? rounded(*c.run->cost_usd) : kUnknown;
  };
  const bool cost_first = options.deadline_seconds.has_value();
  const double a_first = cost_first ? cost_of(a) : time_of(a);
  const double b_first = cost_first ? cost_of(b) : time_of(b);
  const double a_second = cost_first ? time_of(a) : cost_of(a);
  const double b_second = cost_first ? time_of(b) : cost_of(b);
  return std::tuple(a_first, a_second, a.instances, a.type->name) <
         std::tuple(b_first, b_second, b.instances, b.type->name);
}

std::string describe_time_and_cost(const Candidate& candidate) {
  std::string text = "est. " + format_duration(candidate.run->total_seconds);
  text += candidate.run->cost_usd ? ", " + money(*candidate.run->cost_usd) : ", cost unknown";
  return text;
}

std::string describe_rejections(const std::vector<Rejection>& rejected) {
  if (rejected.empty()) return "";
  // One clause per distinct reason, naming its types.
  std::map<std::string, std::vector<std::string>> types_by_reason;
  for (const Rejection& rejection : rejected) {
    types_by_reason[rejection.reason].push_back(rejection.type->name);
  }
  std::string text = " Rejected:";
  for (const auto& [reason, names] : types_by_reason) {
    std::string joined;
    for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
    text += " " + joined + " (" + reason + ");";
  }
  text.back() = '.';
  return text;
}

std::string why_it_wins(const AdviceOptions& options) {
  if (options.deadline_seconds && options.budget_usd) {
    return "the cheapest that meets the " + format_duration(*options.deadline_seconds) +
           " deadline within the " + money(*options.budget_usd) + " budget";
  }
  if (options.deadline_seconds) {
    return "the cheapest that meets the " + format_duration(*options.deadline_seconds) +
           " deadline";
  }
  if (options.budget_usd) return "the fastest within the " + money(*options.budget_usd) + " budget";
  return "the fastest (no deadline or budget given)";
}

std::string reasoning_with_model(const Advice& advice, const AdviceOptions& options) {
  if (!advice.recommended) {
    std::string text = "No instance type meets the constraints";
    if (!advice.ranked.empty() && advice.ranked.front().run) {
      text += "; the nearest is " + label(advice.ranked.front()) + " (" +
              describe_time_and_cost(advice.ranked.front()) + ", " + advice.ranked.front().note +
              ")";
    }
    return text + "." + describe_rejections(advice.rejected);
  }
  const Candidate& winner = advice.ranked[*advice.recommended];
  std::string text = label(winner) + " is " + why_it_wins(options) + ": " +
                     describe_time_and_cost(winner) + " at " +
                     format_duration(winner.step->seconds()) + " per step.";
  if (advice.ranked.size() > 1 && advice.ranked[1].run) {
    const Candidate& runner_up = advice.ranked[1];
    text += " The runner-up, " + label(runner_up) + ", takes " + describe_time_and_cost(runner_up) +
            (runner_up.meets_constraints ? "" : " (" + runner_up.note + ")") + ".";
  }
  return text + describe_rejections(advice.rejected);
}

std::string reasoning_without_model(const Advice& advice) {
  std::string text =
      "No model is known, so times need --model: types are ranked by throughput per dollar "
      "(peak rate x efficiency x GPUs / hourly price).";
  if (advice.recommended) {
    const Candidate& winner = advice.ranked[*advice.recommended];
    char figure[64];
    std::snprintf(figure, sizeof figure, "%.1f", *winner.throughput_per_dollar / 1e12);
    text += " " + winner.type->name + " gives the most: " + figure + " TFLOP/s per USD/hour.";
    if (advice.ranked.size() > 1 && advice.ranked[1].throughput_per_dollar) {
      std::snprintf(figure, sizeof figure, "%.1f", *advice.ranked[1].throughput_per_dollar / 1e12);
      text += " The runner-up, " + advice.ranked[1].type->name + ", gives " + figure + ".";
    }
  } else {
    text += " No type has both a price and peak-rate figures, so none is recommended.";
  }
  return text + describe_rejections(advice.rejected);
}

}  // namespace

std::optional<std::string> architecture_rejection(const InstanceType& type,
                                                  const platform::BuildTargets& build) {
  if (!type.compute_capability) return "compute capability unknown";
  const platform::ComputeCapability capability = *type.compute_capability;
  const std::string architecture =
      (type.accelerator_architecture.empty() ? "compute capability"
                                             : type.accelerator_architecture) +
      " " + capability.to_string();
  if (capability < platform::kOldestCudaArchitecture) {
    return architecture + ": CUDA 13 dropped Kepler, Maxwell, Pascal and Volta; trainyard needs " +
           platform::kOldestCudaArchitecture.to_string() + " (Turing) or newer";
  }
  if (build.fit(capability) == platform::KernelFit::kNone) {
    return architecture + ": this build carries kernels for " + build.describe() + " only";
  }
  return std::nullopt;
}

Advice advise(const platform::InstanceCatalog& catalog,
              const std::optional<ModelWorkload>& workload, const MemoryNeeded& memory_needed,
              const AdviceOptions& options, const platform::BuildTargets& build) {
  if (options.max_instances < 1) {
    throw ValueError("--max-instances must be at least 1, got " +
                     std::to_string(options.max_instances));
  }
  if (options.budget_usd && *options.budget_usd < 0) {
    throw ValueError("--budget must not be negative, got " + money(*options.budget_usd));
  }
  Advice advice;
  advice.model_known = workload.has_value();
  for (const InstanceType& type : catalog.all()) {
    if (type.local || !type.has_nvidia_gpus()) continue;
    if (auto reason = architecture_rejection(type, build)) {
      advice.rejected.push_back({&type, *reason});
      continue;
    }
    if (!type.gpu_count() || *type.gpu_count() < 1) {
      advice.rejected.push_back({&type, "GPU count unknown in the catalog"});
      continue;
    }
    // Without a model, scaling out changes nothing per dollar: one instance each.
    const int counts = workload ? options.max_instances : 1;
    for (int instances = 1; instances <= counts; ++instances) {
      advice.ranked.push_back(judge(type, instances, workload, memory_needed, options));
      apply_constraints(advice.ranked.back(), advice.model_known, options);
    }
  }
  std::stable_sort(advice.ranked.begin(), advice.ranked.end(),
                   [&](const Candidate& a, const Candidate& b) {
                     return better(a, b, advice.model_known, options);
                   });
  if (!advice.ranked.empty() && advice.ranked.front().meets_constraints) advice.recommended = 0;
  advice.reasoning =
      advice.model_known ? reasoning_with_model(advice, options) : reasoning_without_model(advice);
  return advice;
}

}  // namespace trainyard::advisor

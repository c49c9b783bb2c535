#include "jobs/placement/memory_preflight.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "advisor/memory_estimate.h"
#include "core/error.h"
#include "jobs/builtin/trainer_settings.h"
#include "keras/model_config.h"
#include "keras/sequential.h"

namespace trainyard::jobs {
namespace {

constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;
constexpr double kWarnHeadroom = 0.10;

// GiB, or MiB below one GiB so small models do not read as zero.
std::string gib(double bytes) {
  char text[32];
  if (bytes >= kBytesPerGib) {
    std::snprintf(text, sizeof text, "%.2f GiB", bytes / kBytesPerGib);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
  return text;
}

// The hyperparameters as the built-in trainer decodes them (JSON when a value parses).
builtin::TrainerSettings trainer_settings(const TrainingJobSpec& spec) {
  nlohmann::json hyperparameters = nlohmann::json::object();
  for (const auto& [key, value] : spec.hyper_parameters) {
    nlohmann::json decoded = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    hyperparameters[key] = decoded.is_discarded() ? nlohmann::json(value) : decoded;
  }
  std::vector<std::string> ignored;
  return builtin::parse_trainer_settings(hyperparameters, ignored);
}

// The optimizer the trainer will use: the hyperparameter, else the config's compile_config,
// else Adam (the trainer's default).
nn::OptimizerPtr job_optimizer(const builtin::TrainerSettings& settings,
                               const std::string& config) {
  if (settings.optimizer) return nn::make_optimizer(*settings.optimizer);
  std::optional<keras::CompileConfig> compile = keras::compile_config_from_json(config);
  if (compile && compile->optimizer) return compile->optimizer;
  return nn::make_optimizer("adam");
}

std::string breakdown(const advisor::MemoryEstimate& e) {
  return "parameters " + gib(e.parameters) + ", gradients " + gib(e.gradients) +
         ", optimizer slots " + gib(e.optimizer_slots) + ", activations " + gib(e.activations) +
         ", workspace " + gib(e.workspace) + ", allocator overhead " + gib(e.allocator_overhead);
}

struct Sizing {
  const keras::Model& model;
  const nn::Optimizer& optimizer;
  uint64_t total(int64_t batch) const {
    return advisor::estimate_training_memory(model, batch, optimizer, Device("cuda:0")).total();
  }
  // The largest per-GPU batch below `batch` whose estimate is at most `limit`; 0 if none.
  int64_t largest_batch(int64_t batch, double limit) const {
    int64_t low = 0, high = batch - 1;
    while (low < high) {
      int64_t middle = low + (high - low + 1) / 2;
      if (static_cast<double>(total(middle)) <= limit) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  }
};

// The cheapest priced type whose GPUs each hold `bytes`; when the catalog prices none of
// those, the one with the least GPU memory that does. Null when no type holds it.
const platform::InstanceType* cheapest_with_memory(const platform::InstanceCatalog& catalog,
                                                   double bytes) {
  const platform::InstanceType* priced = nullptr;
  const platform::InstanceType* unpriced = nullptr;
  for (const auto& type : catalog.all()) {
    if (!type.has_nvidia_gpus() || !type.accelerator_memory_gib) continue;
    if (*type.accelerator_memory_gib * kBytesPerGib < bytes) continue;
    if (type.price_usd_per_hour) {
      if (priced == nullptr || *type.price_usd_per_hour < *priced->price_usd_per_hour)
        priced = &type;
    } else if (unpriced == nullptr ||
               *type.accelerator_memory_gib < *unpriced->accelerator_memory_gib) {
      unpriced = &type;
    }
  }
  return priced != nullptr ? priced : unpriced;
}

std::string price_text(const platform::InstanceType& type) {
  if (!type.price_usd_per_hour) return "price unknown";
  char price[32];
  std::snprintf(price, sizeof price, "%.2f USD/hour", *type.price_usd_per_hour);
  return price;
}

// How the job's batch_size lands on each GPU: the built-in trainer trains on one GPU per
// host and splits the global batch_size evenly over the hosts (the last replica's share
// rounded up).
struct BatchSplit {
  int64_t global = 0;
  int64_t hosts = 1;
  int64_t per_gpu() const { return (global + hosts - 1) / hosts; }
  // "HyperParameters.batch_size 64", or with several hosts "... split over
  // ResourceConfig.InstanceCount 4 (16 per GPU)".
  std::string describe() const {
    std::string text = "HyperParameters.batch_size " + std::to_string(global);
    if (hosts > 1) {
      text += " split over ResourceConfig.InstanceCount " + std::to_string(hosts) + " (" +
              std::to_string(per_gpu()) + " per GPU)";
    }
    return text;
  }
};

std::string refusal(const TrainingJobSpec& spec, const platform::InstanceType& type,
                    const platform::InstanceCatalog& catalog, const Sizing& sizing,
                    const BatchSplit& split, const advisor::MemoryEstimate& estimate,
                    double gpu_bytes) {
  const int64_t batch = split.global;
  std::string text =
      "training job '" + spec.training_job_name + "' does not fit ResourceConfig.InstanceType " +
      type.name + ": at " + split.describe() + (split.hosts > 1 ? "" : " per GPU") +
      " its model needs an estimated " + gib(estimate.total()) + " (" + breakdown(estimate) +
      ") but each " + type.accelerator_model + " has " + gib(gpu_bytes) + ". Ways out: ";
  int64_t fitting = sizing.largest_batch(split.per_gpu(), gpu_bytes);
  if (fitting > 0 && split.hosts > 1) {
    text += "(1) a smaller batch: HyperParameters.batch_size " +
            std::to_string(fitting * split.hosts) + " (" + std::to_string(fitting) +
            " per GPU) is the largest that fits; ";
  } else if (fitting > 0) {
    text += "(1) a smaller per-GPU batch: HyperParameters.batch_size " + std::to_string(fitting) +
            " is the largest that fits; ";
  } else {
    text += "(1) a smaller per-GPU batch does not help: even batch 1 does not fit; ";
  }
  if (const auto* larger = cheapest_with_memory(catalog, static_cast<double>(estimate.total()))) {
    text += "(2) an instance type with more GPU memory: " + larger->name +
            (larger->price_usd_per_hour ? " is the cheapest that fits (" : " fits (") +
            gib(*larger->accelerator_memory_gib * kBytesPerGib) + " per GPU, " +
            price_text(*larger) + "); ";
  } else {
    text += "(2) no catalogued instance type has GPUs with enough memory; ";
  }
  if (fitting > 0) {
    int64_t gpus = (batch + fitting - 1) / fitting;
    text += "(3) more GPUs: spread the batch over " + std::to_string(gpus) + " GPUs of " +
            gib(gpu_bytes) + " (per-GPU batch " + std::to_string((batch + gpus - 1) / gpus) +
            ") with data-parallel training.";
  } else {
    text += "(3) more GPUs do not help: the model does not fit one GPU even at batch 1.";
  }
  return text;
}

}  // namespace

MemoryPreflight check_job_memory(const TrainingJobSpec& spec,
                                 const platform::InstanceType& instance_type,
                                 const platform::InstanceCatalog& catalog) {
  MemoryPreflight result;
  if (!instance_type.has_nvidia_gpus() || !instance_type.accelerator_memory_gib ||
      instance_type.gpu_count().value_or(0) == 0) {
    return result;
  }
  builtin::TrainerSettings settings = trainer_settings(spec);
  if (!settings.model_config) return result;
  std::optional<keras::Sequential> model;
  nn::OptimizerPtr optimizer;
  try {
    model.emplace(keras::model_from_json(*settings.model_config));
    optimizer = job_optimizer(settings, *settings.model_config);
  } catch (const ValueError& error) {
    throw ValueError("training job '" + spec.training_job_name +
                     "': HyperParameters.model_config: " + error.what());
  }
  if (!model->built()) return result;  // its input shape comes from the data

  const BatchSplit split{settings.batch_size,
                         spec.resource_config && spec.resource_config->instance_count
                             ? *spec.resource_config->instance_count
                             : 1};
  const double gpu_bytes = *instance_type.accelerator_memory_gib * kBytesPerGib;
  Sizing sizing{*model, *optimizer};
  advisor::MemoryEstimate estimate =
      advisor::estimate_training_memory(*model, split.per_gpu(), *optimizer, Device("cuda:0"));
  const double needed = static_cast<double>(estimate.total());
  if (needed > gpu_bytes) {
    result.refusal = refusal(spec, instance_type, catalog, sizing, split, estimate, gpu_bytes);
  } else if (gpu_bytes - needed < kWarnHeadroom * gpu_bytes) {
    result.warnings.push_back("training job '" + spec.training_job_name +
                              "' fits ResourceConfig.InstanceType " + instance_type.name +
                              " with under 10% GPU memory to spare: an estimated " + gib(needed) +
                              " of " + gib(gpu_bytes) + " per GPU at " + split.describe() + " (" +
                              breakdown(estimate) + ")");
  }
  return result;
}

}  // namespace trainyard::jobs

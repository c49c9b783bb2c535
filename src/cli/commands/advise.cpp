// `trainyard advise job.json`: which SageMaker instance type and count to run a training job
// on. Reads the job as `trainyard train` does, counts the model's FLOPs, estimates each GPU
// type's step, epoch and total time and cost, rejects the types this build cannot run, and
// recommends one with its reasoning (docs/advisor.md).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "advisor/advice.h"
#include "advisor/calibration.h"
#include "advisor/duration.h"
#include "advisor/flops.h"
#include "advisor/memory_fit.h"
#include "advisor/step_activations.h"
#include "cli/commands/commands.h"
#include "cli/text_table.h"
#include "core/error.h"
#include "jobs/builtin/channel_data.h"
#include "jobs/builtin/trainer_settings.h"
#include "jobs/job_spec_parse.h"
#include "keras/model.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/keras_archive.h"
#include "keras/saving/model_file.h"

namespace trainyard::cli {
namespace {

struct AdviseArguments {
  std::string job_file;
  std::string deadline;
  std::optional<double> budget_usd;
  int max_instances = 1;
  std::string model_file;
  std::optional<int64_t> samples;
  std::optional<int> epochs;
  std::string precision = "float32";
  bool calibrate = false;
  bool json = false;
};

std::string read_job_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IOError("cannot read job file '" + path + "'");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

jobs::TrainingJobSpec read_job(const std::string& path) {
  jobs::ParseResult parsed = jobs::parse_create_training_job(read_job_file(path));
  if (!parsed) throw ValueError(path + ": " + parsed.errors().message());
  return parsed.spec();
}

// Hyperparameter strings decoded as the SageMaker training toolkit does: JSON when they
// parse, else the string itself.
nlohmann::json decoded_hyperparameters(const jobs::TrainingJobSpec& spec) {
  nlohmann::json decoded = nlohmann::json::object();
  for (const auto& [key, value] : spec.hyper_parameters) {
    nlohmann::json parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    decoded[key] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return decoded;
}

std::unique_ptr<keras::Model> read_model_file(const std::string& path) {
  if (path.ends_with(".keras")) return keras::load_model(path, {.compile = false});
  if (!path.ends_with(".json")) {
    throw ValueError("--model '" + path + "': expected a Keras config (.json) or a .keras file");
  }
  try {
    return keras::deserialize_model(
        keras::saving::read_small_file(path, keras::saving::kMaxConfigBytes));
  } catch (const ValueError& error) {
    throw ValueError("--model '" + path + "': " + error.what());
  }
}

// The job's model: --model, else the model_config hyperparameter; null when neither.
std::unique_ptr<keras::Model> job_model(const AdviseArguments& arguments,
                                        const jobs::builtin::TrainerSettings& settings) {
  if (!arguments.model_file.empty()) return read_model_file(arguments.model_file);
  if (!settings.model_config) return nullptr;
  try {
    return keras::deserialize_model(*settings.model_config);
  } catch (const ValueError& error) {
    throw ValueError(arguments.job_file + ": hyperparameter model_config: " + error.what());
  }
}

// Samples per epoch: --samples, else the training channel's when its data is local.
int64_t samples_per_epoch(const AdviseArguments& arguments, const jobs::TrainingJobSpec& spec,
                          const jobs::builtin::TrainerSettings& settings) {
  if (arguments.samples) {
    if (*arguments.samples < 1) throw ValueError("--samples must be at least 1");
    return *arguments.samples;
  }
  constexpr std::string_view kFilePrefix = "file://";
  for (const jobs::Channel& channel : spec.input_data_config) {
    if (channel.channel_name != "training" && channel.channel_name != "train") continue;
    const std::string uri =
        channel.data_source.s3_data_source ? channel.data_source.s3_data_source->s3_uri : "";
    if (!uri.starts_with(kFilePrefix)) {
      throw ValueError("times need the dataset size: channel '" + channel.channel_name +
                       "' is at " + (uri.empty() ? "no local path" : uri) +
                       ", not on this host; give --samples N");
    }
    const jobs::builtin::ChannelData data = jobs::builtin::read_channel(
        uri.substr(kFilePrefix.size()), channel.channel_name, settings.label_column);
    return data.x.shape()[0];
  }
  throw ValueError(arguments.job_file +
                   " has no training channel; give the dataset size with --samples N");
}

std::string gpu_text(const platform::InstanceType& type, int instances) {
  return std::to_string(instances * type.gpu_count().value_or(0)) + "x " + type.accelerator_model;
}

std::string fits_text(const advisor::Candidate& candidate) {
  if (!candidate.fits) return "unknown";
  return *candidate.fits ? "yes" : "no";
}

std::string money_text(const std::optional<double>& usd) {
  if (!usd) return "unknown";
  char text[32];
  std::snprintf(text, sizeof text, "$%.2f", *usd);
  return text;
}

void print_table(const advisor::Advice& advice) {
  if (advice.model_known) {
    TextTable table({"rank", "instance type", "count", "GPUs", "fits?", "step", "epoch", "total",
                     "cost", "note"},
                    {true, false, true, false, false, true, true, true, true, false});
    int rank = 1;
    for (const advisor::Candidate& candidate : advice.ranked) {
      const bool timed = candidate.run.has_value();
      table.add_row({std::to_string(rank++), candidate.type->name,
                     std::to_string(candidate.instances),
                     gpu_text(*candidate.type, candidate.instances), fits_text(candidate),
                     timed ? advisor::format_duration(candidate.step->seconds()) : "unknown",
                     timed ? advisor::format_duration(candidate.run->epoch_seconds) : "unknown",
                     timed ? advisor::format_duration(candidate.run->total_seconds) : "unknown",
                     timed ? money_text(candidate.run->cost_usd) : "unknown", candidate.note});
    }
    table.print(std::cout);
  } else {
    TextTable table({"rank", "instance type", "GPUs", "TFLOP/s per USD/hour", "note"},
                    {true, false, false, true, false});
    int rank = 1;
    for (const advisor::Candidate& candidate : advice.ranked) {
      std::optional<double> per_dollar;
      if (candidate.throughput_per_dollar) per_dollar = *candidate.throughput_per_dollar / 1e12;
      table.add_row({std::to_string(rank++), candidate.type->name, gpu_text(*candidate.type, 1),
                     format_decimal(per_dollar, 1), candidate.note});
    }
    table.print(std::cout);
  }
  if (!advice.rejected.empty()) {
    std::cout << "\nRejected:\n";
    for (const advisor::Rejection& rejection : advice.rejected) {
      std::cout << "  " << rejection.type->name << ": " << rejection.reason << '\n';
    }
  }
  std::cout << "\nRecommendation: "
            << (advice.recommended
                    ? advice.ranked[*advice.recommended].type->name + " x" +
                          std::to_string(advice.ranked[*advice.recommended].instances)
                    : std::string("none"))
            << "\n"
            << advice.reasoning << '\n';
}

template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

void print_json(const advisor::Advice& advice,
                const std::optional<advisor::Calibration>& calibration) {
  nlohmann::ordered_json out;
  out["model_known"] = advice.model_known;
  out["calibration"] = calibration ? nlohmann::ordered_json(calibration->describe())
                                   : nlohmann::ordered_json(nullptr);
  out["ranked"] = nlohmann::ordered_json::array();
  for (const advisor::Candidate& candidate : advice.ranked) {
    nlohmann::ordered_json row;
    row["instance_type"] = candidate.type->name;
    row["instance_count"] = candidate.instances;
    row["gpus"] = candidate.total_gpus;
    row["gpu_model"] = candidate.type->accelerator_model;
    row["fits"] = or_null(candidate.fits);
    row["efficiency"] = candidate.efficiency;
    row["step_seconds"] =
        candidate.step ? nlohmann::ordered_json(candidate.step->seconds()) : nullptr;
    if (candidate.step) {
      row["step_compute_seconds"] = candidate.step->compute_seconds;
      row["step_call_seconds"] = candidate.step->call_seconds;
      row["step_all_reduce_seconds"] = candidate.step->all_reduce_seconds;
    }
    row["epoch_seconds"] =
        candidate.run ? nlohmann::ordered_json(candidate.run->epoch_seconds) : nullptr;
    row["total_seconds"] =
        candidate.run ? nlohmann::ordered_json(candidate.run->total_seconds) : nullptr;
    row["cost_usd"] = candidate.run ? or_null(candidate.run->cost_usd) : nullptr;
    row["throughput_per_dollar"] = or_null(candidate.throughput_per_dollar);
    row["meets_constraints"] = candidate.meets_constraints;
    row["note"] = candidate.note;
    out["ranked"].push_back(row);
  }
  out["rejected"] = nlohmann::ordered_json::array();
  for (const advisor::Rejection& rejection : advice.rejected) {
    out["rejected"].push_back(
        {{"instance_type", rejection.type->name}, {"reason", rejection.reason}});
  }
  out["recommended"] = advice.recommended
                           ? nlohmann::ordered_json(
                                 {{"instance_type", advice.ranked[*advice.recommended].type->name},
                                  {"instance_count", advice.ranked[*advice.recommended].instances}})
                           : nlohmann::ordered_json(nullptr);
  out["reasoning"] = advice.reasoning;
  std::cout << out.dump(2) << '\n';
}

void run_advise(const AdviseArguments& arguments) {
  advisor::AdviceOptions options;
  if (!arguments.deadline.empty()) {
    options.deadline_seconds = advisor::parse_duration(arguments.deadline);
  }
  options.budget_usd = arguments.budget_usd;
  options.max_instances = arguments.max_instances;
  options.precision = advisor::parse_precision(arguments.precision);

  const jobs::TrainingJobSpec spec = read_job(arguments.job_file);
  std::vector<std::string> warnings;  // hyperparameters of other trainers are no concern here
  const jobs::builtin::TrainerSettings settings =
      jobs::builtin::parse_trainer_settings(decoded_hyperparameters(spec), warnings);
  std::unique_ptr<keras::Model> model = job_model(arguments, settings);

  std::optional<advisor::ModelWorkload> workload;
  advisor::MemoryNeeded memory_needed;
  std::optional<advisor::Calibration> calibration;
  if (model) {
    const advisor::ModelFlops flops = advisor::count_flops(*model);
    workload = advisor::ModelWorkload{
        .training_flops_per_sample = flops.training_per_sample(),
        .gradient_bytes = model->count_params() * 4,
        .run = advisor::RunShape{samples_per_epoch(arguments, spec, settings), settings.batch_size,
                                 arguments.epochs.value_or(settings.epochs)},
        .calls_per_step = advisor::plan_step_activations(*model, settings.batch_size).calls};
    const std::string optimizer = settings.optimizer.value_or("adam");
    memory_needed = [&model, optimizer](int64_t per_gpu_batch) {
      return advisor::training_memory_needed(*model, per_gpu_batch, optimizer);
    };
    if (arguments.calibrate) {
      calibration = advisor::calibrate_on_this_host(*model, settings.batch_size);
      options.measured_efficiency = calibration->efficiency;
      if (!arguments.json) std::cout << calibration->describe() << "\n\n";
    }
  } else if (arguments.calibrate) {
    throw ValueError("--calibrate needs a model: give --model or a model_config hyperparameter");
  }

  const advisor::Advice advice =
      advisor::advise(platform::InstanceCatalog::builtin(), workload, memory_needed, options,
                      platform::BuildTargets::of_this_build());
  if (arguments.json) {
    print_json(advice, calibration);
  } else {
    print_table(advice);
  }
}

}  // namespace

void add_advise_command(CLI::App& app) {
  auto arguments = std::make_shared<AdviseArguments>();
  CLI::App* command = app.add_subcommand(
      "advise", "Estimate time and cost of a training job per instance type and recommend one");
  command->add_option("job", arguments->job_file, "CreateTrainingJob request (JSON file)")
      ->required();
  command->add_option("--deadline", arguments->deadline,
                      "Finish within this long: 2h, 90m, 1h30m; recommends the cheapest");
  command->add_option("--budget", arguments->budget_usd,
                      "Spend at most this many USD; recommends the fastest within it");
  command->add_option("--max-instances", arguments->max_instances,
                      "Consider 1..N instances of each type (default 1)");
  command->add_option("--model", arguments->model_file,
                      "Keras model config (.json) or .keras file (default: model_config)");
  command->add_option("--samples", arguments->samples,
                      "Samples per epoch (default: the job's local training channel)");
  command->add_option("--epochs", arguments->epochs, "Epochs (default: the job's epochs)");
  command->add_option("--precision", arguments->precision,
                      "float32 (default), tf32, bfloat16 or float16");
  command->add_flag("--calibrate", arguments->calibrate,
                    "Measure a few training steps on this host to calibrate the efficiency");
  command->add_flag("--json", arguments->json, "Print JSON instead of a table");
  command->callback([arguments] { run_advise(*arguments); });
}

}  // namespace trainyard::cli

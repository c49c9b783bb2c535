#include "jobs/builtin/builtin_trainer.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "distribute/replicated_model.h"
#include "distribute/strategy.h"
#include "jobs/builtin/channel_data.h"
#include "jobs/builtin/output_files.h"
#include "jobs/builtin/step_times.h"
#include "jobs/builtin/trainer_settings.h"
#include "keras/model_config.h"

extern char** environ;

namespace trainyard::jobs {
namespace {

namespace fs = std::filesystem;
using builtin::ChannelData;
using builtin::TrainerSettings;
using Json = nlohmann::ordered_json;

// Model configs are small; anything larger is not one.
constexpr uintmax_t kMaxModelConfigBytes = 64 << 20;

// A failure with its SageMaker category, "ClientError" or "AlgorithmError".
class TrainerFailure : public Error {
 public:
  TrainerFailure(std::string category, const std::string& message)
      : Error(message), category_(std::move(category)) {}
  const std::string& category() const { return category_; }

 private:
  std::string category_;
};

[[noreturn]] void client_error(const std::string& message) {
  throw TrainerFailure("ClientError", message);
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& environment,
                                  const std::string& key) {
  auto it = environment.find(key);
  if (it == environment.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Where SageMaker's contract puts things, from SM_* variables or the /opt/ml defaults.
struct JobPaths {
  const std::map<std::string, std::string>* environment;
  fs::path base;
  fs::path model_dir;
  fs::path output_dir;

  explicit JobPaths(const std::map<std::string, std::string>& env) : environment(&env) {
    base = lookup(env, "SAGEMAKER_BASE_DIR").value_or("/opt/ml");
    model_dir = lookup(env, "SM_MODEL_DIR").value_or((base / "model").string());
    output_dir = lookup(env, "SM_OUTPUT_DIR").value_or((base / "output").string());
  }

  // The directory of the first of `names` the job has: SM_CHANNEL_<NAME>, else an existing
  // <base>/input/data/<name>.
  std::optional<fs::path> channel(std::initializer_list<const char*> names) const {
    for (const char* name : names) {
      std::string key = "SM_CHANNEL_";
      for (const char* c = name; *c; ++c) {
        key += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
      }
      if (auto value = lookup(*environment, key)) return fs::path(*value);
    }
    for (const char* name : names) {
      std::error_code error;
      fs::path directory = base / "input" / "data" / name;
      if (fs::is_directory(directory, error)) return directory;
    }
    return std::nullopt;
  }
};

std::string read_small_file(const fs::path& path, const std::string& what) {
  std::error_code error;
  uintmax_t size = fs::file_size(path, error);
  if (error) client_error(what + " '" + path.string() + "' cannot be read: " + error.message());
  if (size > kMaxModelConfigBytes) {
    client_error(what + " '" + path.string() + "' is " + std::to_string(size) +
                 " bytes, too large for a model config");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) client_error(what + " '" + path.string() + "' cannot be read");
  return text.str();
}

struct ModelSource {
  std::string text;
  std::string where;  // for messages: "hyperparameter model_config", "model channel file ..."
};

// The Keras config JSON: the hyperparameter model_config, or model.json (else the only
// .json file) in the channel `model`.
ModelSource find_model_config(const TrainerSettings& settings, const JobPaths& paths) {
  std::optional<fs::path> channel = paths.channel({"model"});
  if (settings.model_config && channel) {
    client_error("both the hyperparameter model_config and the model channel '" +
                 channel->string() + "' give a model config; give one of them");
  }
  if (settings.model_config) return {*settings.model_config, "hyperparameter model_config"};
  if (!channel) {
    client_error(
        "no model config: put a Keras model config JSON (model.to_json()) in the channel "
        "'model' as model.json, or pass it in the hyperparameter model_config");
  }
  std::error_code error;
  fs::path chosen = *channel / "model.json";
  if (!fs::is_regular_file(chosen, error)) {
    std::vector<fs::path> candidates;
    for (fs::directory_iterator it(*channel, error), end; !error && it != end;
         it.increment(error)) {
      if (it->path().extension() == ".json" && it->is_regular_file(error)) {
        candidates.push_back(it->path());
      }
    }
    if (error) client_error("model channel '" + channel->string() + "' cannot be listed");
    if (candidates.size() != 1) {
      client_error("model channel '" + channel->string() + "' holds " +
                   std::to_string(candidates.size()) +
                   " .json files and no model.json; name the model config model.json");
    }
    chosen = candidates[0];
  }
  return {read_small_file(chosen, "model config"), "model config '" + chosen.string() + "'"};
}

bool is_crossentropy(const std::string& loss) {
  return loss.find("crossentropy") != std::string::npos || loss == "bce" || loss == "cce" ||
         loss == "scce" || loss == "ce";
}

// compile()'s arguments from the hyperparameters, falling back on the config's
// compile_config; also what model.json records.
keras::CompileConfig compile_arguments(const TrainerSettings& settings,
                                       const std::optional<keras::CompileConfig>& from_config) {
  keras::CompileConfig compile;
  try {
    if (settings.optimizer) {
      compile.optimizer = nn::make_optimizer(*settings.optimizer);
    } else if (from_config && from_config->optimizer) {
      compile.optimizer = from_config->optimizer;
    } else {
      compile.optimizer = nn::make_optimizer("adam");
    }
  } catch (const ValueError& error) {
    client_error("hyperparameter optimizer = \"" + settings.optimizer.value_or("") +
                 "\": " + error.what());
  }
  if (settings.learning_rate) compile.optimizer->set_learning_rate(*settings.learning_rate);

  if (settings.loss) {
    compile.loss = nn::LossFunction(*settings.loss);
    try {
      compile.loss->validate();
    } catch (const ValueError& error) {
      client_error("hyperparameter loss = \"" + *settings.loss + "\": " + error.what());
    }
  } else if (from_config && from_config->loss) {
    compile.loss = from_config->loss;
  } else {
    client_error(
        "hyperparameter loss is required: the model config has no compile_config with a loss "
        "(e.g. loss=sparse_categorical_crossentropy)");
  }
  if (settings.from_logits) compile.loss->from_logits = *settings.from_logits;

  if (settings.metrics) {
    compile.metrics = *settings.metrics;
  } else if (from_config && !from_config->metrics.empty()) {
    compile.metrics = from_config->metrics;
  } else if (is_crossentropy(compile.loss->name)) {
    compile.metrics = {"accuracy"};
  }
  return compile;
}

// Keras's way of printing a metric value: 4 decimals, or 4 significant digits in
// scientific notation when it is 1e-3 or less.
std::string format_metric(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), value > 1e-3 || value < -1e-3 ? "%.4f" : "%.4e", value);
  return text;
}

std::string describe_shape(const Shape& sample_shape) {
  return sample_shape.with_batch(-1).to_keras_string();
}

struct SplitData {
  std::string channel;
  ChannelData data;
  Tensor x;  // scaled for the model
};

SplitData load_split(const std::string& channel, const fs::path& directory,
                     const TrainerSettings& settings) {
  SplitData split{channel, builtin::read_channel(directory, channel, settings.label_column), {}};
  double scale = settings.scale.value_or(split.data.default_scale);
  split.x = scale == 1.0 ? split.data.x : split.data.x.cast(DType::kFloat32, scale);
  return split;
}

Json logs_json(const keras::Logs& logs) {
  Json object = Json::object();
  for (const auto& [name, value] : logs) object[name] = value;
  return object;
}

void write_artifacts(const fs::path& model_dir, const keras::Sequential& model,
                     const keras::CompileConfig& compile, const Json& metrics, std::ostream& err) {
  try {
    std::error_code error;
    fs::create_directories(model_dir, error);
    if (error) {
      throw IOError("cannot create the model directory '" + model_dir.string() +
                    "': " + error.message());
    }
    builtin::write_weights_npz(model_dir / "weights.npz", model.weights());
    std::string config;
    try {
      config = keras::to_json(model, compile);
    } catch (const ValueError& problem) {
      err << "warning: model.json is written without a compile_config: " << problem.what() << "\n";
      config = keras::to_json(model);
    }
    builtin::write_file_atomically(model_dir / "model.json", config);
    builtin::write_file_atomically(model_dir / "metrics.json", metrics.dump(2) + "\n");
  } catch (const Error& error) {
    throw TrainerFailure("AlgorithmError",
                         std::string("cannot write the model artifacts: ") + error.what());
  }
}

// Writes the step times where TRAINYARD_STEP_TIMES_FILE asked. They only serve measurements,
// so a file that cannot be written is a warning, never a reason to fail a trained job.
void write_step_times(const fs::path& path, const builtin::StepTimesRecorder& step_times,
                      std::ostream& err) {
  try {
    builtin::write_file_atomically(path, step_times.to_json());
  } catch (const Error& error) {
    err << "warning: " << builtin::kStepTimesFileVariable << ": " << error.what() << "\n";
  }
}

// How many processes mpirun (OpenMPI's OMPI_COMM_WORLD_SIZE) or a PMI launcher (PMI_SIZE)
// started for this job; 1 when none did.
int launched_processes(const std::map<std::string, std::string>& environment) {
  for (const char* key : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (auto value = lookup(environment, key)) {
      try {
        return std::max(1, std::stoi(*value));
      } catch (const std::exception&) {
        client_error(std::string(key) + " = \"" + *value + "\" is not a process count");
      }
    }
  }
  return 1;
}

// Data-parallel training over the processes mpirun started, one replica each
// (MultiWorkerMirroredStrategy): every process reads the same channels, the global batch is
// batch_size, as under a Keras strategy. Returns the replicas' history; `trained` is this
// process's replica.
keras::History fit_across_processes(distribute::Strategy& strategy,
                                    std::optional<distribute::ReplicatedModel>& replicated,
                                    keras::Sequential& first, const std::string& model_config,
                                    const TrainerSettings& settings, const SplitData& training,
                                    const std::optional<SplitData>& validation, std::ostream& out) {
  if (settings.validation_split > 0 && !validation) {
    client_error(
        "hyperparameter validation_split is not supported when the job trains on several "
        "processes; give a validation channel instead");
  }
  replicated.emplace(strategy, [&] {
    auto model = std::make_unique<keras::Sequential>(keras::model_from_json(model_config));
    // Each replica gets its own optimizer (its own slots), made as the single model's is.
    keras::CompileConfig compile =
        compile_arguments(settings, keras::compile_config_from_json(model_config));
    model->compile(
        {.optimizer = compile.optimizer, .loss = compile.loss, .metrics = compile.metrics});
    return model;
  });
  // The replicas start where one process's model would: the config's first model, built
  // for the training samples (rank 0's, should processes have drawn different weights).
  if (!first.built()) first.build(training.x.shape());
  replicated->build(training.x.shape(), training.data.y.shape());
  replicated->set_weights(first.get_weights());
  distribute::ReplicatedFitOptions fit{.batch_size = settings.batch_size,
                                       .epochs = settings.epochs,
                                       .shuffle = settings.shuffle,
                                       .seed = settings.seed,
                                       .verbose = settings.verbose,
                                       .output = &out};
  if (validation) {
    fit.validation_x = validation->x;
    fit.validation_y = validation->data.y;
  }
  return replicated->fit(training.x, training.data.y, fit);
}

void train(const JobPaths& paths, std::ostream& out, std::ostream& err) {
  std::string hyperparameter_source;
  nlohmann::json hyperparameters =
      builtin::read_hyperparameters(*paths.environment, hyperparameter_source);
  std::vector<std::string> warnings;
  TrainerSettings settings = builtin::parse_trainer_settings(hyperparameters, warnings);
  for (const auto& warning : warnings) err << "warning: " << warning << "\n";
  if (settings.seed) set_random_seed(*settings.seed);

  ModelSource source = find_model_config(settings, paths);
  std::optional<keras::Sequential> model;
  std::optional<keras::CompileConfig> config_compile;
  try {
    model.emplace(keras::model_from_json(source.text));
    config_compile = keras::compile_config_from_json(source.text);
  } catch (const Error& error) {
    client_error(source.where + ": " + error.what());
  }
  keras::CompileConfig compile = compile_arguments(settings, config_compile);

  std::optional<fs::path> training_dir = paths.channel({"training", "train"});
  if (!training_dir) {
    client_error(
        "no training channel: the job needs a channel named 'training' (SM_CHANNEL_TRAINING)");
  }
  SplitData training = load_split("training", *training_dir, settings);
  std::optional<SplitData> validation, test;
  if (auto directory = paths.channel({"validation", "val"})) {
    validation = load_split("validation", *directory, settings);
  }
  if (auto directory = paths.channel({"test"})) test = load_split("test", *directory, settings);

  Shape sample_shape = training.x.shape().with_batch(-1);
  if (model->built()) {
    const Shape& expected = model->layers().front()->input_shape();
    if (expected != sample_shape) {
      client_error("the training channel's samples (" + training.data.description +
                   ") have shape " + describe_shape(sample_shape) + " but " + source.where +
                   " takes inputs " + describe_shape(expected));
    }
  }
  for (const auto* split : {&validation, &test}) {
    if (*split && (*split)->x.shape().with_batch(-1) != sample_shape) {
      client_error("the " + (*split)->channel + " channel's samples (" +
                   (*split)->data.description + ") have shape " +
                   describe_shape((*split)->x.shape()) + " but the training samples have " +
                   describe_shape(sample_shape));
    }
  }
  if (validation && settings.validation_split > 0) {
    err << "warning: hyperparameter validation_split is ignored: the validation channel is "
           "used instead\n";
  }

  const int processes = launched_processes(*paths.environment);
  std::optional<distribute::MultiWorkerMirroredStrategy> strategy;
  std::optional<distribute::ReplicatedModel> replicated;
  if (processes > 1) strategy.emplace();
  const bool chief = !strategy || strategy->is_chief();
  if (chief) {
    out << "trainyard-keras: training on " << training.x.shape()[0] << " samples ("
        << training.data.description << ")";
    if (validation) out << ", validating on " << validation->x.shape()[0] << " samples";
    if (test) out << ", testing on " << test->x.shape()[0] << " samples";
    if (strategy)
      out << ", across " << processes << " processes (global batch " << settings.batch_size << ")";
    out << "\n";
  }

  keras::History history;
  keras::Logs test_logs;
  keras::Sequential* trained = &*model;
  try {
    if (strategy) {
      history = fit_across_processes(*strategy, replicated, *model, source.text, settings, training,
                                     validation, out);
      trained = dynamic_cast<keras::Sequential*>(&replicated->replica(0));
      TY_CHECK(trained != nullptr, "a replica of a Sequential config is not Sequential");
      if (test) {
        test_logs = trained->evaluate(test->x, test->data.y,
                                      {.batch_size = settings.batch_size, .verbose = 0});
      }
    } else {
      model->compile(
          {.optimizer = compile.optimizer, .loss = compile.loss, .metrics = compile.metrics});
      keras::FitOptions fit{.batch_size = settings.batch_size,
                            .epochs = settings.epochs,
                            .verbose = settings.verbose,
                            .validation_split = validation ? 0.0 : settings.validation_split,
                            .shuffle = settings.shuffle,
                            .seed = settings.seed,
                            .output = &out};
      if (validation)
        fit.validation_data = keras::ValidationData{validation->x, validation->data.y};
      std::shared_ptr<builtin::StepTimesRecorder> step_times;
      std::optional<std::string> step_times_file =
          lookup(*paths.environment, builtin::kStepTimesFileVariable);
      if (step_times_file) {
        step_times = std::make_shared<builtin::StepTimesRecorder>();
        fit.callbacks.push_back(step_times);
      }
      history = model->fit(training.x, training.data.y, fit);
      if (step_times) write_step_times(*step_times_file, *step_times, err);
      if (test) {
        test_logs = model->evaluate(test->x, test->data.y,
                                    {.batch_size = settings.batch_size, .verbose = 0});
      }
    }
  } catch (const InternalError&) {
    throw;
  } catch (const Error& error) {
    client_error("the model cannot train on the data (training: " + training.data.description +
                 "): " + error.what());
  }

  if (!chief) {
    // Every replica holds the same weights; the chief alone reports them and writes them.
    out.flush();
    return;
  }
  keras::Logs train_logs, validation_logs;
  for (const auto& [name, values] : history.history) {
    if (values.empty()) continue;
    if (name.rfind("val_", 0) == 0) {
      validation_logs.emplace_back(name.substr(4), values.back());
    } else {
      train_logs.emplace_back(name, values.back());
    }
  }
  for (const auto& [name, value] : train_logs)
    out << "train_" << name << ": " << format_metric(value) << "\n";
  for (const auto& [name, value] : validation_logs)
    out << "val_" << name << ": " << format_metric(value) << "\n";
  for (const auto& [name, value] : test_logs)
    out << "test_" << name << ": " << format_metric(value) << "\n";

  Json metrics = Json::object();
  metrics["epochs"] = settings.epochs;
  metrics["train"] = logs_json(train_logs);
  if (!validation_logs.empty()) metrics["validation"] = logs_json(validation_logs);
  if (test) metrics["test"] = logs_json(test_logs);
  Json history_json = Json::object();
  for (const auto& [name, values] : history.history) history_json[name] = values;
  metrics["history"] = history_json;
  write_artifacts(paths.model_dir, *trained, compile, metrics, err);
  out << "trainyard-keras: wrote model.json, weights.npz and metrics.json to "
      << paths.model_dir.string() << "\n";
  out.flush();
}

void report_failure(const JobPaths& paths, const std::string& reason, std::ostream& err) {
  err << reason << "\n";
  try {
    std::error_code error;
    fs::create_directories(paths.output_dir, error);
    builtin::write_file_atomically(paths.output_dir / "failure", reason);
  } catch (const std::exception& problem) {
    err << "trainyard-keras: cannot write the failure file: " << problem.what() << "\n";
  }
}

}  // namespace

int run_builtin_trainer(const std::map<std::string, std::string>& environment, std::ostream& out,
                        std::ostream& err) {
  JobPaths paths(environment);
  std::string reason;
  try {
    train(paths, out, err);
    return 0;
  } catch (const TrainerFailure& failure) {
    reason = failure.category() + ": " + failure.what();
  } catch (const InternalError& error) {
    reason = std::string("AlgorithmError: ") + error.what();
  } catch (const Error& error) {
    // Bad hyperparameters, data or model configs surface as ValueError, ShapeError,
    // DataError or IOError from the layers below.
    reason = std::string("ClientError: ") + error.what();
  } catch (const std::bad_alloc&) {
    reason = "AlgorithmError: out of memory while training (try a smaller batch_size or model)";
  } catch (const std::exception& error) {
    reason = std::string("AlgorithmError: ") + error.what();
  }
  out.flush();
  report_failure(paths, reason, err);
  return 1;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals == std::string::npos) continue;
    environment.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return environment;
}

}  // namespace trainyard::jobs

// The built-in trainer's hyperparameters: where they come from in a SageMaker-style
// environment and what each one means (README.md in this folder lists them).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace trainyard::jobs::builtin {

// A CSV file's label column: by header name, or by index (negative counts from the end).
struct LabelColumn {
  std::optional<std::string> name;
  int64_t index = 0;
};

struct TrainerSettings {
  int epochs = 1;
  int64_t batch_size = 32;
  std::optional<std::string> optimizer;             // unset: the config's compile_config, else adam
  std::optional<double> learning_rate;              // unset: the optimizer's own
  std::optional<std::string> loss;                  // unset: the config's compile_config
  std::optional<bool> from_logits;                  // applies to the loss, however it was given
  std::optional<std::vector<std::string>> metrics;  // unset: compile_config, else by loss
  double validation_split = 0.0;
  std::optional<uint64_t> seed;
  int verbose = 2;
  bool shuffle = true;
  std::optional<std::string> model_config;  // Keras model config JSON given inline
  LabelColumn label_column;
  std::optional<double> scale;  // unset: 1/255 for uint8 IDX images, else 1
};

// The job's hyperparameters as a JSON object of decoded values, from the first of:
// SM_HPS; the "hyperparameters" of SM_TRAINING_ENV; hyperparameters.json in
// SM_INPUT_CONFIG_DIR (default <SAGEMAKER_BASE_DIR or /opt/ml>/input/config), whose string
// values are decoded as the SageMaker training toolkit does (JSON when they parse, else the
// string). An empty object when none is present. Sets `source` to where they came from.
// Throws ValueError naming the variable or file when it holds something else than a JSON
// object, IOError when the file exists but cannot be read.
nlohmann::json read_hyperparameters(const std::map<std::string, std::string>& environment,
                                    std::string& source);

// Reads the trainer's settings from decoded hyperparameters. Numbers may also arrive as
// strings ("5"); `metrics` as a JSON list or a comma-separated string. Keys the trainer does
// not know are added to `warnings` (those starting with "sagemaker_" and
// "_tuning_objective_metric" are SageMaker's own and skipped quietly). Throws ValueError
// naming the hyperparameter and its value when it is of the wrong type or out of range.
TrainerSettings parse_trainer_settings(const nlohmann::json& hyperparameters,
                                       std::vector<std::string>& warnings);

}  // namespace trainyard::jobs::builtin

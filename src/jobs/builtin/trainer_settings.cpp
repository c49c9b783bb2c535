#include "jobs/builtin/trainer_settings.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace trainyard::jobs::builtin {
namespace {

using Json = nlohmann::json;

const char* const kKnownHyperparameters[] = {
    "epochs",      "batch_size",   "optimizer",        "learning_rate", "loss",
    "from_logits", "metrics",      "validation_split", "seed",          "verbose",
    "shuffle",     "model_config", "label_column",     "scale",
};

std::string brief(const Json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

[[noreturn]] void invalid(const std::string& key, const Json& value, const std::string& why) {
  throw ValueError("hyperparameter " + key + " = " + brief(value) + " " + why);
}

// The toolkit's decoding of one hyperparameters.json value: JSON when it parses, else the
// string itself.
Json decode_value(const std::string& text) {
  Json decoded = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return decoded.is_discarded() ? Json(text) : decoded;
}

// A number given as a number or as a string holding one.
std::optional<double> as_number(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    Json decoded = decode_value(value.get<std::string>());
    if (decoded.is_number()) return decoded.get<double>();
  }
  return std::nullopt;
}

int64_t read_integer(const std::string& key, const Json& value, int64_t min, int64_t max) {
  std::optional<double> number = as_number(value);
  if (!number || std::floor(*number) != *number || *number < double(min) || *number > double(max)) {
    invalid(key, value,
            "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(*number);
}

double read_double(const std::string& key, const Json& value) {
  std::optional<double> number = as_number(value);
  if (!number || !std::isfinite(*number)) invalid(key, value, "must be a number");
  return *number;
}

bool read_bool(const std::string& key, const Json& value) {
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text == "true" || text == "True") return true;
    if (text == "false" || text == "False") return false;
  }
  invalid(key, value, "must be true or false");
}

std::string read_string(const std::string& key, const Json& value) {
  if (!value.is_string() || value.get<std::string>().empty()) {
    invalid(key, value, "must be a non-empty string");
  }
  return value.get<std::string>();
}

std::string trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> read_metrics(const std::string& key, const Json& value) {
  Json list = value;
  if (value.is_string()) {
    std::string text = trim(value.get<std::string>());
    if (!text.empty() && text.front() == '[') {
      list = decode_value(text);
    } else {
      std::vector<std::string> names;
      std::stringstream stream(text);
      std::string item;
      while (std::getline(stream, item, ',')) {
        if (!trim(item).empty()) names.push_back(trim(item));
      }
      return names;
    }
  }
  if (!list.is_array()) invalid(key, value, "must be a list of metric names");
  std::vector<std::string> names;
  for (const Json& item : list) {
    if (!item.is_string()) invalid(key, value, "must be a list of metric names");
    names.push_back(item.get<std::string>());
  }
  return names;
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& environment,
                                  const std::string& key) {
  auto it = environment.find(key);
  if (it == environment.end()) return std::nullopt;
  return it->second;
}

Json parse_object(const std::string& text, const std::string& what) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || !value.is_object()) {
    throw ValueError(what + " must hold a JSON object, got " +
                     (text.size() > 80 ? text.substr(0, 77) + "..." : text));
  }
  return value;
}

}  // namespace

Json read_hyperparameters(const std::map<std::string, std::string>& environment,
                          std::string& source) {
  if (auto hps = lookup(environment, "SM_HPS")) {
    source = "SM_HPS";
    return parse_object(*hps, "SM_HPS");
  }
  if (auto training_env = lookup(environment, "SM_TRAINING_ENV")) {
    source = "SM_TRAINING_ENV";
    Json env = parse_object(*training_env, "SM_TRAINING_ENV");
    auto found = env.find("hyperparameters");
    if (found == env.end() || found->is_null()) return Json::object();
    if (!found->is_object()) {
      throw ValueError("SM_TRAINING_ENV: hyperparameters must be a JSON object, got " +
                       brief(*found));
    }
    return *found;
  }
  std::filesystem::path config_dir;
  if (auto dir = lookup(environment, "SM_INPUT_CONFIG_DIR")) {
    config_dir = *dir;
  } else {
    config_dir =
        std::filesystem::path(lookup(environment, "SAGEMAKER_BASE_DIR").value_or("/opt/ml")) /
        "input" / "config";
  }
  std::filesystem::path file = config_dir / "hyperparameters.json";
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    source = "none";
    return Json::object();
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw IOError(file.string() + ": cannot read the hyperparameters");
  source = file.string();
  Json raw = parse_object(text.str(), file.string());
  Json decoded = Json::object();
  for (const auto& [key, value] : raw.items()) {
    decoded[key] = value.is_string() ? decode_value(value.get<std::string>()) : value;
  }
  return decoded;
}

TrainerSettings parse_trainer_settings(const Json& hyperparameters,
                                       std::vector<std::string>& warnings) {
  TrainerSettings settings;
  if (!hyperparameters.is_object()) {
    throw ValueError("hyperparameters must be a JSON object, got " + brief(hyperparameters));
  }
  for (const auto& [key, value] : hyperparameters.items()) {
    if (value.is_null()) continue;
    if (key == "epochs") {
      settings.epochs = static_cast<int>(read_integer(key, value, 1, 1000000));
    } else if (key == "batch_size") {
      settings.batch_size = read_integer(key, value, 1, int64_t{1} << 31);
    } else if (key == "optimizer") {
      settings.optimizer = read_string(key, value);
    } else if (key == "learning_rate") {
      settings.learning_rate = read_double(key, value);
      if (*settings.learning_rate <= 0) invalid(key, value, "must be positive");
    } else if (key == "loss") {
      settings.loss = read_string(key, value);
    } else if (key == "from_logits") {
      settings.from_logits = read_bool(key, value);
    } else if (key == "metrics") {
      settings.metrics = read_metrics(key, value);
    } else if (key == "validation_split") {
      settings.validation_split = read_double(key, value);
      if (settings.validation_split < 0 || settings.validation_split >= 1) {
        invalid(key, value, "must be in [0, 1)");
      }
    } else if (key == "seed") {
      settings.seed = static_cast<uint64_t>(read_integer(key, value, 0, INT64_MAX));
    } else if (key == "verbose") {
      settings.verbose = static_cast<int>(read_integer(key, value, 0, 2));
    } else if (key == "shuffle") {
      settings.shuffle = read_bool(key, value);
    } else if (key == "model_config") {
      // Inline JSON, which the toolkit's decoding may already have turned into an object.
      settings.model_config = value.is_string() ? value.get<std::string>() : value.dump();
    } else if (key == "label_column") {
      // An integer (or a string holding one) is an index; anything else a header name.
      std::optional<double> number = as_number(value);
      if (number && std::floor(*number) == *number && std::abs(*number) < 1e9) {
        settings.label_column.index = static_cast<int64_t>(*number);
      } else {
        settings.label_column.name = read_string(key, value);
      }
    } else if (key == "scale") {
      settings.scale = read_double(key, value);
    } else if (key.rfind("sagemaker_", 0) == 0 || key == "_tuning_objective_metric") {
      continue;
    } else {
      std::string known;
      for (const char* name : kKnownHyperparameters)
        known += (known.empty() ? "" : ", ") + std::string(name);
      warnings.push_back("hyperparameter '" + key +
                         "' is not used by the trainyard-keras trainer (known: " + known + ")");
    }
  }
  return settings;
}

}  // namespace trainyard::jobs::builtin

#include "jobs/runners/runtime_registry.h"

#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "jobs/builtin/builtin_trainer.h"

namespace trainyard::jobs {
namespace {

bool is_builtin_image(const std::string& image) {
  const std::string name = kBuiltinTrainingImage;
  return image == name || image.starts_with(name + ":");
}

bool is_pattern(const std::string& image) {
  return image.ends_with("*");
}

// Reads one registry entry, naming `where` ("runtimes.json: runtimes[2]") in every error.
Runtime parse_runtime(const nlohmann::json& entry, const std::string& where) {
  if (!entry.is_object()) throw DataError(where + ": expected an object");
  Runtime runtime;
  for (const auto& [key, value] : entry.items()) {
    const std::string field = where + "." + key;
    if (key == "image") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        throw DataError(field + ": expected a non-empty string");
      }
      runtime.image = value.get<std::string>();
    } else if (key == "entrypoint") {
      if (!value.is_array()) throw DataError(field + ": expected an array of strings");
      for (const nlohmann::json& part : value) {
        if (!part.is_string() || part.get<std::string>().empty()) {
          throw DataError(field + ": expected an array of non-empty strings");
        }
        runtime.entrypoint.push_back(part.get<std::string>());
      }
    } else if (key == "environment") {
      if (!value.is_object()) throw DataError(field + ": expected an object of strings");
      for (const auto& [name, text] : value.items()) {
        if (name.empty() || name.find('=') != std::string::npos || !text.is_string()) {
          throw DataError(field + "." + name +
                          ": expected a string value under a name without '='");
        }
        runtime.environment[name] = text.get<std::string>();
      }
    } else if (key == "python") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        throw DataError(field + ": expected a non-empty string");
      }
      runtime.python = value.get<std::string>();
    } else {
      throw DataError(where + ": unknown member '" + key +
                      "' (known: image, entrypoint, environment, python)");
    }
  }
  if (runtime.image.empty()) throw DataError(where + ": missing member 'image'");
  if (runtime.image.find('*') != runtime.image.size() - 1 &&
      runtime.image.find('*') != std::string::npos) {
    throw DataError(where + ".image: '*' may only end a pattern, in '" + runtime.image + "'");
  }
  if (is_builtin_image(runtime.image)) {
    throw DataError(where + ".image: '" + runtime.image + "' is trainyard's built-in runtime");
  }
  return runtime;
}

}  // namespace

std::filesystem::path default_runtime_registry_path(const std::filesystem::path& data_dir) {
  return data_dir / "runtimes.json";
}

RuntimeRegistry RuntimeRegistry::load(const std::filesystem::path& path) {
  std::error_code error;
  const bool exists = std::filesystem::exists(path, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    throw IOError("cannot read runtime registry " + path.string() + ": " + error.message());
  }
  if (!exists) {
    RuntimeRegistry registry;
    registry.path_ = path;
    return registry;
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) throw IOError("cannot read runtime registry " + path.string());
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& problem) {
    throw DataError("runtime registry " + path.string() + " is not valid JSON: " + problem.what());
  }
  RuntimeRegistry registry = from_json(document, path);
  registry.file_exists_ = true;
  return registry;
}

RuntimeRegistry RuntimeRegistry::from_json(const nlohmann::json& document,
                                           const std::filesystem::path& path) {
  const std::string where = "runtime registry " + path.string();
  if (!document.is_object()) throw DataError(where + ": expected an object {\"runtimes\": [...]}");
  RuntimeRegistry registry;
  registry.path_ = path;
  registry.file_exists_ = true;
  std::set<std::string> images;
  for (const auto& [key, value] : document.items()) {
    if (key != "runtimes")
      throw DataError(where + ": unknown member '" + key + "' (known: runtimes)");
    if (!value.is_array()) throw DataError(where + ": runtimes: expected an array");
    for (size_t i = 0; i < value.size(); ++i) {
      Runtime runtime = parse_runtime(value[i], where + ": runtimes[" + std::to_string(i) + "]");
      if (!images.insert(runtime.image).second) {
        throw DataError(where + ": runtimes[" + std::to_string(i) + "]: image '" + runtime.image +
                        "' is listed twice");
      }
      registry.runtimes_.push_back(std::move(runtime));
    }
  }
  return registry;
}

Runtime RuntimeRegistry::find(const std::string& image) const {
  if (is_builtin_image(image)) return Runtime{.image = image, .builtin = true};
  const Runtime* best = nullptr;
  for (const Runtime& runtime : runtimes_) {
    if (runtime.image == image) return runtime;
    if (!is_pattern(runtime.image)) continue;
    const std::string_view prefix(runtime.image.data(), runtime.image.size() - 1);
    if (image.starts_with(prefix) &&
        (best == nullptr || best->image.size() < runtime.image.size())) {
      best = &runtime;
    }
  }
  if (best != nullptr) return *best;
  throw ValueError("training image '" + image + "' has no runtime: it is not " +
                   kBuiltinTrainingImage + " and matches no entry of the runtime registry " +
                   path_.string() + (file_exists_ ? "" : " (no such file)"));
}

}  // namespace trainyard::jobs

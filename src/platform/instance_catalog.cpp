#include "platform/instance_catalog.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/error.h"
#include "platform/edit_distance.h"
#include "platform/instance_catalog_data.h"

namespace trainyard::platform {
namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(const std::vector<std::string>& names, std::string_view separator) {
  std::string text;
  for (const std::string& name : names) {
    if (!text.empty()) text += separator;
    text += name;
  }
  return text;
}

std::string describe(const std::optional<double>& value) {
  if (!value) return "unknown";
  char text[32];
  std::snprintf(text, sizeof(text), "%g", *value);  // 24, 7.5: as the CSV writes them
  return text;
}

std::string describe(const std::optional<ComputeCapability>& value) {
  return value ? value->to_string() : "unknown";
}

}  // namespace

bool InstanceFilter::matches(const InstanceType& type) const {
  if (gpu_only && (!type.has_nvidia_gpus() || type.accelerator_count == 0)) return false;
  if (min_gpu_memory_gib) {
    if (!type.has_nvidia_gpus() || !type.accelerator_memory_gib ||
        *type.accelerator_memory_gib < *min_gpu_memory_gib || type.accelerator_count == 0) {
      return false;
    }
  }
  return true;
}

const InstanceCatalog& InstanceCatalog::builtin() {
  static const InstanceCatalog catalog =
      from_csv(detail::builtin_instance_catalog_csv(), "built-in instance-catalog.csv");
  return catalog;
}

void InstanceCatalog::add(InstanceType type, std::string_view source_name, int line) {
  std::string where = std::string(source_name) + " line " + std::to_string(line);
  if (find(type.name) != nullptr) {
    throw DataError(where + ": instance type '" + type.name + "' is listed twice");
  }
  if (!type.accelerator_model.empty()) {
    auto known = std::find_if(
        accelerator_models_.begin(), accelerator_models_.end(),
        [&](const AcceleratorModel& model) { return model.name == type.accelerator_model; });
    if (known == accelerator_models_.end()) {
      accelerator_models_.push_back({.name = type.accelerator_model,
                                     .kind = type.accelerator_kind,
                                     .memory_gib = type.accelerator_memory_gib,
                                     .architecture = type.accelerator_architecture,
                                     .compute_capability = type.compute_capability});
    } else {
      // One model has one set of facts; a row that disagrees is a typo in one of them.
      auto contradicts = [&](const std::string& field, const std::string& here,
                             const std::string& before) {
        if (here != before) {
          throw DataError(where + ": " + type.name + " gives " + type.accelerator_model + " " +
                          field + " " + here + ", but an earlier row gives " + before);
        }
      };
      contradicts("memory", describe(type.accelerator_memory_gib), describe(known->memory_gib));
      contradicts("compute capability", describe(type.compute_capability),
                  describe(known->compute_capability));
      contradicts("architecture", type.accelerator_architecture, known->architecture);
    }
  }
  types_.push_back(std::move(type));
}

const InstanceType* InstanceCatalog::find(std::string_view name) const {
  auto found = std::find_if(types_.begin(), types_.end(),
                            [&](const InstanceType& type) { return type.name == name; });
  return found == types_.end() ? nullptr : &*found;
}

std::vector<std::string> InstanceCatalog::closest_names(std::string_view name,
                                                        std::size_t count) const {
  std::vector<std::string> names;
  names.reserve(types_.size());
  for (const InstanceType& type : types_) names.push_back(type.name);
  return platform::closest_names(name, names, count);
}

const InstanceType& InstanceCatalog::require(std::string_view name) const {
  if (const InstanceType* type = find(name)) return *type;
  throw ValueError("unknown instance type '" + std::string(name) + "'; did you mean " +
                   join(closest_names(name), ", ") + "? (`trainyard instances` lists them all)");
}

std::vector<const InstanceType*> InstanceCatalog::filter(const InstanceFilter& filter) const {
  std::vector<const InstanceType*> kept;
  for (const InstanceType& type : types_) {
    if (filter.matches(type)) kept.push_back(&type);
  }
  return kept;
}

const AcceleratorModel& InstanceCatalog::require_accelerator_model(std::string_view query) const {
  for (const AcceleratorModel& model : accelerator_models_) {
    if (same_ignoring_case(model.name, query)) return model;
  }
  std::vector<const AcceleratorModel*> matching;
  for (const AcceleratorModel& model : accelerator_models_) {
    if (model.matches(query)) matching.push_back(&model);
  }
  if (matching.size() == 1) return *matching.front();
  std::vector<std::string> names;
  if (!matching.empty()) {
    for (const AcceleratorModel* model : matching) names.push_back(model->name);
    throw ValueError("accelerator model '" + std::string(query) + "' is ambiguous: it matches " +
                     join(names, ", ") + "; add a word that tells them apart");
  }
  // Compare against the names without their vendor word, which users rarely type.
  std::vector<std::string> short_names;
  for (const AcceleratorModel& model : accelerator_models_) {
    names.push_back(model.name);
    auto space = model.name.find(' ');
    short_names.push_back(space == std::string::npos ? model.name : model.name.substr(space + 1));
  }
  std::vector<std::string> suggestions;
  for (const std::string& near : platform::closest_names(query, short_names, 3)) {
    suggestions.push_back(
        names[std::find(short_names.begin(), short_names.end(), near) - short_names.begin()]);
  }
  throw ValueError("unknown accelerator model '" + std::string(query) + "'; did you mean " +
                   join(suggestions, ", ") + "?");
}

InstanceType InstanceCatalog::resolve(std::string_view name, const HostResources& host,
                                      const GpuInventory& gpus) const {
  InstanceType type = require(name);
  if (!type.local) return type;
  type.vcpus = host.vcpus;
  type.memory_gib = host.memory_gib;
  if (!type.has_nvidia_gpus()) return type;

  auto found = gpus.gpus();
  type.accelerator_count = static_cast<int>(found.size());
  if (found.empty()) return type;
  std::vector<std::string> models;
  std::uint64_t smallest_memory = found.front().total_memory_bytes;
  ComputeCapability lowest_capability = found.front().compute_capability;
  for (const GpuInfo& gpu : found) {
    if (std::find(models.begin(), models.end(), gpu.name) == models.end()) {
      models.push_back(gpu.name);
    }
    smallest_memory = std::min(smallest_memory, gpu.total_memory_bytes);
    lowest_capability = std::min(lowest_capability, gpu.compute_capability);
  }
  // A host with mixed GPUs is described by its weakest one, the limit a job must fit.
  type.accelerator_model = join(models, " + ");
  type.accelerator_memory_gib = static_cast<double>(smallest_memory) / kBytesPerGib;
  type.compute_capability = lowest_capability;
  return type;
}

}  // namespace trainyard::platform

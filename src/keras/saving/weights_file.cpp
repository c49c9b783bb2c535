#include "keras/saving/weights_file.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "core/error.h"
#include "keras/model.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/weights_layout.h"

namespace trainyard::keras {
namespace {

using saving::H5DatasetInfo;
using saving::H5File;
using saving::WeightEntry;
using saving::WeightGroup;

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void require_built(const Model& model, const char* function) {
  if (!model.built()) {
    throw ValueError(std::string(function) + ": model '" + model.name() +
                     "' is not built yet; build it (build(), fit() or predict()) first");
  }
}

std::string spell(std::optional<DType> dtype, const std::string& type_name,
                  const std::vector<int64_t>& dims) {
  return (dtype ? std::string(dtype_name(*dtype)) : type_name) + " " + Shape(dims).to_string();
}

// A dataset that passed every check, waiting to be read.
struct StagedRead {
  std::string dataset;
  const WeightEntry* entry;
  Tensor buffer;
  // The dtype of the dataset in the file: the entry's, or int32 for an int64 counter.
  DType file_dtype;
};

// Keras on JAX runs without 64-bit integers by default, so the optimizer's `iterations`
// counter that Keras on TensorFlow or PyTorch (and trainyard) keeps as int64 is saved as int32.
// Such a file is read by widening the value, as Keras itself does when it loads one.
bool widens_to(std::optional<DType> in_file, DType in_model) {
  return in_file == DType::kInt32 && in_model == DType::kInt64;
}

// Checks every group of `groups` against the file, appending one line per mismatch to
// `problems`; returns the reads to do when there are none.
std::vector<StagedRead> plan_reads(const H5File& file, const std::vector<WeightGroup>& groups,
                                   std::vector<std::string>& problems) {
  std::vector<StagedRead> reads;
  for (const WeightGroup& group : groups) {
    std::string vars = group.path + "/vars";
    if (!file.is_group(vars)) {
      if (!group.entries.empty()) {
        problems.push_back(group.owner + ": not in the file (no group '" + vars + "')");
      }
      continue;
    }
    size_t in_file = file.children(vars).size();
    if (in_file != group.entries.size()) {
      problems.push_back(group.owner + ": the model has " + std::to_string(group.entries.size()) +
                         " variables, the file has " + std::to_string(in_file) + " in '" + vars +
                         "'");
    }
    for (size_t i = 0; i < group.entries.size(); ++i) {
      const WeightEntry& entry = group.entries[i];
      std::string dataset = vars + "/" + std::to_string(i);
      std::string label = group.owner + " variable '" + entry.variable + "'";
      if (!file.is_dataset(dataset)) {
        problems.push_back(label + ": not in the file (no dataset '" + dataset + "')");
        continue;
      }
      H5DatasetInfo info = file.inspect(dataset);
      const Tensor& value = entry.value;
      if (info.dims != value.shape().dims() ||
          (info.dtype != value.dtype() && !widens_to(info.dtype, value.dtype()))) {
        problems.push_back(label + " ('" + dataset + "'): expected " +
                           spell(value.dtype(), "", value.shape().dims()) + ", the file has " +
                           spell(info.dtype, info.type_name, info.dims));
        continue;
      }
      reads.push_back({dataset, &entry, Tensor(), *info.dtype});
    }
  }
  return reads;
}

// Layer groups in the file under `layers` that hold variables but match no layer of the model.
void find_extra_layers(const H5File& file, const std::string& layers,
                       const std::vector<WeightGroup>& groups, std::vector<std::string>& problems) {
  if (!file.is_group(layers)) return;
  std::set<std::string> expected;
  for (const WeightGroup& group : groups) expected.insert(group.path);
  for (const std::string& name : file.children(layers)) {
    std::string path = layers + "/" + name;
    if (expected.count(path)) continue;
    std::string vars = path + "/vars";
    if (file.is_group(vars) && !file.children(vars).empty()) {
      problems.push_back("the file has variables for a layer at '" + path +
                         "' that the model does not have");
    }
  }
}

// tf.keras 2.13 kept layers under "_layer_checkpoint_dependencies", named by class but not
// always numbered as Keras 3 numbers them ("dense", "dense_2" for a model's two Dense
// layers). Its groups that hold variables are matched, per class, in numeric order to the
// model's layers of that class that have variables.
constexpr const char* kKeras213Layers = "_layer_checkpoint_dependencies";

// "dense_2" -> {"dense", 2}; "dense" -> {"dense", 0}.
std::pair<std::string, int64_t> split_class_index(const std::string& name) {
  size_t underscore = name.rfind('_');
  if (underscore == std::string::npos || underscore + 1 == name.size()) return {name, 0};
  std::string digits = name.substr(underscore + 1);
  if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return {name, 0};
  }
  return {name.substr(0, underscore), std::stoll(digits)};
}

// Rewrites the paths of the first `layer_count` groups (the layers').
void map_keras213_layers(const H5File& file, std::vector<WeightGroup>& groups, size_t layer_count,
                         std::vector<std::string>& problems) {
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> in_file;
  for (const std::string& name : file.children(kKeras213Layers)) {
    std::string vars = std::string(kKeras213Layers) + "/" + name + "/vars";
    if (!file.is_group(vars) || file.children(vars).empty()) continue;
    auto [stem, index] = split_class_index(name);
    in_file[stem].emplace_back(index, name);
  }
  std::map<std::string, size_t> used;
  for (size_t i = 0; i < layer_count; ++i) {
    WeightGroup& group = groups[i];
    if (group.entries.empty()) continue;
    std::string name = group.path.substr(group.path.find('/') + 1);  // "layers/<name>"
    std::string stem = split_class_index(name).first;
    auto& candidates = in_file[stem];
    std::sort(candidates.begin(), candidates.end());
    size_t& next = used[stem];
    // A layer with no group left keeps its own name, which plan_reads reports as missing.
    group.path = std::string(kKeras213Layers) + "/" +
                 (next < candidates.size() ? candidates[next].second : name);
    ++next;
  }
  for (const auto& [stem, candidates] : in_file) {
    if (candidates.size() > used[stem]) {
      problems.push_back("the file has " + std::to_string(candidates.size()) + " '" + stem +
                         "' layers with variables under '" + kKeras213Layers + "', the model has " +
                         std::to_string(used[stem]));
    }
  }
}

}  // namespace

void save_weights(const Model& model, const std::string& path, const SaveWeightsOptions& options) {
  if (!ends_with(path, ".weights.h5")) {
    throw ValueError("save_weights: the filename must end in `.weights.h5`, got '" + path + "'");
  }
  require_built(model, "save_weights");
  std::vector<WeightGroup> groups = saving::layer_groups(model);
  if (options.include_optimizer && model.compiled() && model.optimizer().built()) {
    groups.push_back(saving::optimizer_group(model));
  }
  saving::write_file_atomically(path, [&](const std::string& temporary) {
    H5File file = H5File::create(temporary);
    // Keras saves the model's own (empty) variables first, then its layers, then the rest.
    file.create_group("vars");
    file.set_string_attribute("vars", "name", model.name());
    for (const WeightGroup& group : groups) {
      std::string vars = group.path + "/vars";
      file.create_group(vars);
      file.set_string_attribute(vars, "name", group.name);
      for (size_t i = 0; i < group.entries.size(); ++i) {
        file.write_dataset(vars + "/" + std::to_string(i), group.entries[i].value);
      }
    }
    for (const auto& [name, value] : options.root_attributes) {
      file.set_int_attribute(".", name, value);
    }
    file.close();
  });
}

LoadWeightsResult load_weights(Model& model, const std::string& path,
                               const LoadWeightsOptions& options) {
  require_built(model, "load_weights");
  H5File file = H5File::open_read_only(path);
  std::vector<WeightGroup> groups = saving::layer_groups(model);
  const size_t layer_group_count = groups.size();
  LoadWeightsResult result;
  bool file_has_optimizer =
      file.is_group("optimizer/vars") && !file.children("optimizer/vars").empty();
  if (file_has_optimizer && model.compiled() && options.load_optimizer) {
    if (model.optimizer().built()) {
      groups.push_back(saving::optimizer_group(model));
      result.optimizer_loaded = true;
    } else {
      std::cerr << "load_weights: skipping the optimizer state in '" << path
                << "': the optimizer of model '" << model.name()
                << "' is not built yet (fit() or train_on_batch() builds it)\n";
    }
  }

  std::vector<std::string> problems;
  std::string layers = "layers";
  if (!file.is_group(layers) && file.is_group(kKeras213Layers)) {
    layers = kKeras213Layers;
    map_keras213_layers(file, groups, layer_group_count, problems);
  }
  std::vector<StagedRead> reads = plan_reads(file, groups, problems);
  find_extra_layers(file, layers,
                    std::vector<WeightGroup>(groups.begin(), groups.begin() + layer_group_count),
                    problems);
  if (!problems.empty()) {
    std::string message = "load_weights: '" + path + "' does not fit model '" + model.name() +
                          "' (" + std::to_string(problems.size()) + " mismatch" +
                          (problems.size() == 1 ? "" : "es") + "):";
    for (const std::string& problem : problems) message += "\n  " + problem;
    throw ShapeError(message);
  }

  // Read everything before changing anything, so a bad file leaves the model as it was.
  for (StagedRead& read : reads) {
    read.buffer = Tensor::zeros(read.entry->value.shape(), read.entry->value.dtype());
    if (read.file_dtype == read.buffer.dtype()) {
      file.read_dataset(read.dataset, read.buffer);
    } else {
      Tensor narrow = Tensor::zeros(read.buffer.shape(), read.file_dtype);
      file.read_dataset(read.dataset, narrow);
      const int32_t* from = narrow.data<int32_t>();
      int64_t* to = read.buffer.data<int64_t>();
      for (int64_t i = 0; i < narrow.num_elements(); ++i) to[i] = from[i];
    }
    if (read.entry->problem) {
      std::string problem = read.entry->problem(read.buffer);
      if (!problem.empty()) {
        throw DataError("load_weights: '" + path + "' dataset '" + read.dataset + "': " + problem);
      }
    }
  }
  for (const StagedRead& read : reads) read.entry->assign(read.buffer);
  return result;
}

}  // namespace trainyard::keras

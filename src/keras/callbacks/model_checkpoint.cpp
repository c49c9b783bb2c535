#include "keras/callbacks/model_checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "keras/model.h"
#include "keras/saving/filepath_template.h"
#include "keras/saving/weights_file.h"

namespace trainyard::keras {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Python's f"{value:.5f}", as Keras prints monitored values.
std::string five_decimals(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.5f", value);
  return buffer;
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)),
      options_(std::move(options)),
      best_(options_.initial_value_threshold) {
  if (options_.save_weights_only && !ends_with(filepath_, ".weights.h5")) {
    std::string hint = ends_with(filepath_, ".keras")
                           ? "; a `.keras` filepath saves the whole model: leave "
                             "save_weights_only = false"
                           : "";
    throw ValueError(
        "ModelCheckpoint: with save_weights_only = true, the filepath must end in "
        "`.weights.h5` (Keras weights format)" +
        hint + ". Received: filepath=" + filepath_);
  }
  // Keras also takes ".h5" (the legacy format); a ".weights.h5" name is refused, as the
  // user surely meant save_weights_only.
  bool legacy = ends_with(filepath_, ".h5") && !ends_with(filepath_, ".weights.h5");
  if (!options_.save_weights_only && !ends_with(filepath_, ".keras") && !legacy) {
    std::string hint;
    if (ends_with(filepath_, ".weights.h5")) {
      hint = "; to save only the weights to a `.weights.h5` filepath pass save_weights_only = true";
    }
    throw ValueError(
        "ModelCheckpoint: the filepath must end in `.keras` (Keras model format) or `.h5` "
        "(legacy HDF5) when saving the whole model (save_weights_only = false, the default)" +
        hint + ". Received: filepath=" + filepath_);
  }
  if (options_.save_best_only) monitor_.emplace(options_.monitor, options_.mode, 0.0);
}

std::ostream& ModelCheckpoint::out() const {
  return options_.output ? *options_.output : std::cout;
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs) {
  counter_.start_epoch();
  if (!options_.save_freq.per_epoch()) return;
  save(epoch, std::nullopt, [&logs](std::string_view name) { return find_log(logs, name); });
}

void ModelCheckpoint::on_train_batch_end(int64_t batch, const BatchLogs& logs) {
  if (options_.save_freq.per_epoch()) return;
  if (!counter_.should_save(batch, options_.save_freq.batches())) return;
  save(current_epoch_, batch, [&logs](std::string_view name) { return logs.get(name); });
}

void ModelCheckpoint::save(int epoch, std::optional<int64_t> batch,
                           const std::function<std::optional<double>(std::string_view)>& lookup) {
  std::string path = saving::format_filepath(
      filepath_, [&](std::string_view name) -> std::optional<saving::TemplateValue> {
        if (name == "epoch") return int64_t{epoch + 1};
        if (name == "batch" && batch) return *batch + 1;
        std::optional<double> value = lookup(name);
        if (!value) return std::nullopt;
        return *value;
      });
  const std::string prefix = "\nEpoch " + std::to_string(epoch + 1) + ": ";
  if (options_.save_best_only) {
    std::optional<double> current = lookup(options_.monitor);
    if (!current) {
      std::cerr << "ModelCheckpoint: can save best model only with " << options_.monitor
                << " available; saving anyway\n";
    } else {
      std::string best_text = best_ ? five_decimals(*best_) : "None";
      if (!monitor_->improves(*current, best_)) {
        if (options_.verbose > 0) {
          out() << prefix << options_.monitor << " did not improve from " << best_text << "\n";
        }
        return;
      }
      if (options_.verbose > 0) {
        out() << prefix << options_.monitor << " improved from " << best_text << " to "
              << five_decimals(*current) << ", saving model to " << path << "\n";
      }
      best_ = *current;
    }
  } else if (options_.verbose > 0) {
    out() << prefix << "saving model to " << path << "\n";
  }
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (!directory.empty()) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
      throw IOError("ModelCheckpoint: cannot create the directory '" + directory.string() +
                    "': " + error.message());
    }
  }
  if (std::filesystem::is_directory(path)) {
    throw IOError(
        "ModelCheckpoint: please specify a non-directory filepath; the filepath used is an "
        "existing directory: " +
        path);
  }
  if (options_.save_weights_only) {
    save_weights(model(), path);
  } else {
    model().save(path);
  }
  if (options_.verbose > 0) out() << prefix << "finished saving model to " << path << "\n";
}

}  // namespace trainyard::keras

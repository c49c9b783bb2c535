#include "keras/callbacks/backup_and_restore.h"

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "keras/model.h"
#include "keras/saving/atomic_file.h"
#include "keras/saving/h5_file.h"
#include "keras/saving/weights_file.h"

namespace trainyard::keras {
namespace {

// The weights file records which epoch it belongs to. The metadata file is written after
// it, so a kill between the two renames leaves new weights beside old metadata; the
// weights' own record then decides, and the resumed run still starts where they left off.
constexpr const char* kEpochAttribute = "trainyard_epoch";
constexpr const char* kBatchAttribute = "trainyard_batch";
constexpr size_t kMaxMetadataBytes = 1 << 16;

int checked_epoch(int64_t epoch, const std::string& source) {
  if (epoch < 0 || epoch > std::numeric_limits<int>::max()) {
    throw DataError("BackupAndRestore: '" + source + "' records epoch " + std::to_string(epoch) +
                    ", which is not a valid epoch index");
  }
  return static_cast<int>(epoch);
}

// The "epoch" of a training_metadata.json as Keras writes it.
std::optional<int> metadata_epoch(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  std::string text = saving::read_small_file(path, kMaxMetadataBytes);
  nlohmann::json metadata = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (metadata.is_discarded() || !metadata.is_object() || !metadata.contains("epoch") ||
      !metadata["epoch"].is_number_integer()) {
    throw DataError("BackupAndRestore: '" + path +
                    "' is not a training metadata record ({\"epoch\": N, \"batch\": M})");
  }
  return checked_epoch(metadata["epoch"].get<int64_t>(), path);
}

}  // namespace

BackupAndRestore::BackupAndRestore(std::string backup_dir, BackupAndRestoreOptions options)
    : backup_dir_(std::move(backup_dir)), options_(std::move(options)) {
  if (backup_dir_.empty()) throw ValueError("BackupAndRestore: empty backup_dir argument passed");
  std::filesystem::path directory(backup_dir_);
  weights_path_ = (directory / "latest.weights.h5").string();
  metadata_path_ = (directory / "training_metadata.json").string();
}

void BackupAndRestore::on_train_begin() {
  current_epoch_ = 0;
  counter_ = BatchSaveCounter();
  resumed_epoch_.reset();
  if (!std::filesystem::exists(weights_path_)) return;
  Model& model = this->model();
  if (!model.built()) {
    throw ValueError("BackupAndRestore: model '" + model.name() +
                     "' must be built before fit() restores '" + weights_path_ + "'");
  }
  std::optional<int64_t> stamped =
      saving::H5File::open_read_only(weights_path_).int_attribute(".", kEpochAttribute);
  std::optional<int> epoch = stamped ? std::optional<int>(checked_epoch(*stamped, weights_path_))
                                     : metadata_epoch(metadata_path_);
  load_weights(model, weights_path_);
  if (!epoch) return;
  current_epoch_ = *epoch;
  resumed_epoch_ = *epoch;
  model.initial_epoch_override = *epoch;
}

void BackupAndRestore::on_epoch_end(int epoch, Logs& /*logs*/) {
  current_epoch_ = epoch + 1;
  counter_.start_epoch();
  if (options_.save_freq.per_epoch()) save(0);
}

void BackupAndRestore::on_train_batch_end(int64_t batch, const BatchLogs& /*logs*/) {
  if (options_.save_freq.per_epoch()) return;
  if (counter_.should_save(batch, options_.save_freq.batches())) save(batch);
}

void BackupAndRestore::save(int64_t batch) {
  std::error_code error;
  std::filesystem::create_directories(backup_dir_, error);
  if (error) {
    throw IOError("BackupAndRestore: cannot create the backup directory '" + backup_dir_ +
                  "': " + error.message());
  }
  save_weights(model(), weights_path_,
               {.include_optimizer = true,
                .root_attributes = {{kEpochAttribute, current_epoch_}, {kBatchAttribute, batch}}});
  // Keras's json.dumps spelling, so Keras can resume from a trainyard backup and back.
  saving::write_text_file_atomically(metadata_path_,
                                     "{\"epoch\": " + std::to_string(current_epoch_) +
                                         ", \"batch\": " + std::to_string(batch) + "}");
}

void BackupAndRestore::on_train_end(const Logs& /*logs*/) {
  if (!options_.delete_checkpoint) return;
  std::error_code error;
  for (const std::string& path : {weights_path_, metadata_path_}) {
    if (std::filesystem::remove(path, error); error) {
      throw IOError("BackupAndRestore: cannot delete '" + path + "': " + error.message());
    }
  }
  // Temporaries a killed save left behind (".latest.weights.h5.tmp-<pid>-<n>").
  for (const auto& entry : std::filesystem::directory_iterator(backup_dir_, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(".latest.weights.h5.tmp-", 0) == 0 ||
        name.rfind(".training_metadata.json.tmp-", 0) == 0) {
      std::filesystem::remove(entry.path(), error);
    }
  }
  // Only an emptied directory goes: backup_dir may hold the user's other files.
  std::filesystem::remove(backup_dir_, error);
}

}  // namespace trainyard::keras

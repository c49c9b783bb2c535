// BackupAndRestore: lets an interrupted fit() continue where it stopped (Keras 3's callback,
// keras-semantics.md 6.7). At the end of every epoch (or every N batches) it writes
// <backup_dir>/latest.weights.h5 (the model's weights and its optimizer's iterations,
// learning rate and slots) and <backup_dir>/training_metadata.json ({"epoch": next epoch,
// "batch": last batch}), the files Keras writes. When fit() starts and a backup exists, it
// loads it and fit() resumes at the saved epoch; when fit() ends, the backup is deleted.
//
// A resumed run ends bitwise equal to an uninterrupted one when both draw the same seeds:
// shuffling follows (fit's seed, epoch) and dropout (the layer's seed, optimizer iterations),
// and the restarted program repeats the same set_random_seed and model-building calls (or
// passes explicit seeds), on the same number of threads. Resumption is per epoch, as in
// Keras: with an integer save_freq the epoch in progress starts over from mid-epoch weights.
// State other callbacks keep (EarlyStopping's patience count, ...) is not saved.
#pragma once

#include <optional>
#include <string>

#include "keras/callback.h"
#include "keras/saving/save_frequency.h"

namespace trainyard::keras {

struct BackupAndRestoreOptions {
  SaveFrequency save_freq = "epoch";
  // Delete the backup when fit() ends normally (it stays after an exception or a kill).
  bool delete_checkpoint = true;
};

class BackupAndRestore final : public Callback {
 public:
  // Throws ValueError for an empty backup_dir.
  explicit BackupAndRestore(std::string backup_dir, BackupAndRestoreOptions options = {});

  // Restores the backup if there is one. Throws DataError/IOError naming the file when it
  // cannot be read, ShapeError when it does not fit the model.
  void on_train_begin() override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_batch_end(int64_t batch, const BatchLogs& logs) override;
  bool wants_batch_events() const override { return !options_.save_freq.per_epoch(); }
  // Deletes the backup's files, and backup_dir when that leaves it empty (delete_checkpoint).
  void on_train_end(const Logs& logs) override;

  // The epoch the last on_train_begin resumed at, or nullopt when there was no backup.
  std::optional<int> resumed_epoch() const { return resumed_epoch_; }
  const std::string& weights_path() const { return weights_path_; }
  const std::string& metadata_path() const { return metadata_path_; }

 private:
  void save(int64_t batch);

  std::string backup_dir_;
  std::string weights_path_;
  std::string metadata_path_;
  BackupAndRestoreOptions options_;
  int current_epoch_ = 0;  // the epoch a resumed fit() would start at
  BatchSaveCounter counter_;
  std::optional<int> resumed_epoch_;
};

}  // namespace trainyard::keras

// Keras's save_freq argument of ModelCheckpoint and BackupAndRestore: "epoch" (save at the
// end of every epoch) or a number N (save every N training batches, counted across epochs).
#pragma once

#include <cstdint>
#include <string>

namespace trainyard::keras {

class SaveFrequency {
 public:
  // "epoch"; throws ValueError for any other text.
  SaveFrequency(const char* text);         // NOLINT(google-explicit-constructor)
  SaveFrequency(const std::string& text);  // NOLINT(google-explicit-constructor)
  // Every `batches` batches; throws ValueError unless batches >= 1.
  SaveFrequency(int batches);      // NOLINT(google-explicit-constructor)
  SaveFrequency(int64_t batches);  // NOLINT(google-explicit-constructor)

  bool per_epoch() const { return batches_ == 0; }
  // REQUIRES: !per_epoch().
  int64_t batches() const { return batches_; }

 private:
  int64_t batches_ = 0;  // 0: per epoch
};

// Keras's batch counting for an integer save_freq: how many batches passed since the last
// save, where a batch index not above the last one seen starts a new epoch. Call once per
// finished batch; true when it is time to save.
class BatchSaveCounter {
 public:
  bool should_save(int64_t batch, int64_t every);
  // The last batch index seen (0 before any), as Keras records it.
  int64_t last_batch_seen() const { return last_batch_seen_ < 0 ? 0 : last_batch_seen_; }
  void start_epoch() { last_batch_seen_ = -1; }

 private:
  int64_t since_last_save_ = 0;
  int64_t last_batch_seen_ = -1;
};

}  // namespace trainyard::keras

#include "keras/saving/save_frequency.h"

#include "core/error.h"

namespace trainyard::keras {

SaveFrequency::SaveFrequency(const char* text) : SaveFrequency(std::string(text ? text : "")) {}

SaveFrequency::SaveFrequency(const std::string& text) {
  if (text != "epoch") {
    throw ValueError("save_freq must be \"epoch\" or a number of batches >= 1, got \"" + text +
                     "\"");
  }
}

SaveFrequency::SaveFrequency(int batches) : SaveFrequency(static_cast<int64_t>(batches)) {}

SaveFrequency::SaveFrequency(int64_t batches) : batches_(batches) {
  if (batches < 1) {
    throw ValueError("save_freq must be \"epoch\" or a number of batches >= 1, got " +
                     std::to_string(batches));
  }
}

bool BatchSaveCounter::should_save(int64_t batch, int64_t every) {
  // A batch index that does not move forward means a new epoch began.
  int64_t added =
      last_batch_seen_ < 0 || batch <= last_batch_seen_ ? batch + 1 : batch - last_batch_seen_;
  since_last_save_ += added;
  last_batch_seen_ = batch;
  if (since_last_save_ < every) return false;
  since_last_save_ = 0;
  return true;
}

}  // namespace trainyard::keras

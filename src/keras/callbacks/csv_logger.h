// CSVLogger: one row per epoch, as Keras writes it: header "epoch,<sorted log names>",
// 0-based epoch, values as Python's repr of a float, "NA" for validation columns before
// validation ran, "\r\n" line ends, flushed after every row.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "keras/callback.h"

namespace trainyard::keras {

class CSVLogger final : public Callback {
 public:
  // append: add rows to an existing file (no second header when it is not empty).
  explicit CSVLogger(std::string filename, std::string separator = ",", bool append = false);
  void on_train_begin() override;
  void on_epoch_end(int epoch, Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  std::string filename_;
  std::string separator_;
  bool append_;
  bool header_written_ = false;
  std::vector<std::string> keys_;
  std::ofstream file_;
};

}  // namespace trainyard::keras

#include "keras/callbacks/csv_logger.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "keras/python_format.h"

namespace trainyard::keras {

CSVLogger::CSVLogger(std::string filename, std::string separator, bool append)
    : filename_(std::move(filename)), separator_(std::move(separator)), append_(append) {}

void CSVLogger::on_train_begin() {
  std::error_code error;
  bool has_content = append_ && std::filesystem::exists(filename_, error) &&
                     std::filesystem::file_size(filename_, error) > 0;
  file_.open(filename_, append_ ? std::ios::app : std::ios::trunc);
  if (!file_) throw IOError("CSVLogger: cannot open '" + filename_ + "' for writing");
  header_written_ = has_content;
  keys_.clear();
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs) {
  if (keys_.empty()) {
    for (const auto& [name, value] : logs) keys_.push_back(name);
    bool has_validation = std::any_of(keys_.begin(), keys_.end(), [](const std::string& key) {
      return key.rfind("val_", 0) == 0;
    });
    // validation_freq > 1: the first row has no val_ values yet, but the columns must exist.
    if (!has_validation) {
      size_t count = keys_.size();
      for (size_t i = 0; i < count; ++i) keys_.push_back("val_" + keys_[i]);
    }
    std::sort(keys_.begin(), keys_.end());
  }
  if (!header_written_) {
    file_ << "epoch";
    for (const auto& key : keys_) file_ << separator_ << key;
    file_ << "\r\n";
    header_written_ = true;
  }
  file_ << epoch;
  for (const auto& key : keys_) {
    std::optional<double> value = find_log(logs, key);
    file_ << separator_ << (value ? python_repr(*value) : "NA");
  }
  file_ << "\r\n";
  file_.flush();
  if (!file_) throw IOError("CSVLogger: writing '" + filename_ + "' failed");
}

void CSVLogger::on_train_end(const Logs&) {
  file_.close();
}

}  // namespace trainyard::keras

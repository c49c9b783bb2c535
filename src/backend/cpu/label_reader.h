// Reads class labels of any numeric dtype as integers, rejecting values that are not class
// indices, so sparse losses and metrics accept uint8, int and float label tensors alike.
#pragma once

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace trainyard::backend::cpu {

class LabelReader {
 public:
  // REQUIRES: labels holds `rows` elements. `entry` names the caller in errors.
  LabelReader(const char* entry, const Tensor& labels, int64_t classes)
      : entry_(entry), data_(labels.raw_data()), dtype_(labels.dtype()), classes_(classes) {}

  int64_t operator()(int64_t row) const {
    double value = 0;
    switch (dtype_) {
      case DType::kFloat32:
        value = static_cast<const float*>(data_)[row];
        break;
      case DType::kFloat64:
        value = static_cast<const double*>(data_)[row];
        break;
      case DType::kInt32:
        value = static_cast<const int32_t*>(data_)[row];
        break;
      case DType::kInt64:
        value = static_cast<double>(static_cast<const int64_t*>(data_)[row]);
        break;
      case DType::kUInt8:
        value = static_cast<const uint8_t*>(data_)[row];
        break;
      default:
        throw ValueError(std::string(entry_) + ": labels of dtype " +
                         std::string(dtype_name(dtype_)) + " are not supported");
    }
    if (!(value >= 0 && value < static_cast<double>(classes_)) || value != std::floor(value)) {
      throw ValueError(std::string(entry_) + ": label " + format_label(value) + " at row " +
                       std::to_string(row) + " is not a class index in [0, " +
                       std::to_string(classes_) + ")");
    }
    return static_cast<int64_t>(value);
  }

 private:
  // Whole numbers print without decimals ("10", not "10.000000").
  static std::string format_label(double value) {
    if (value == std::floor(value) && std::abs(value) < 1e15) {
      return std::to_string(static_cast<int64_t>(value));
    }
    std::string text = std::to_string(value);
    return text;
  }

  const char* entry_;
  const void* data_;
  DType dtype_;
  int64_t classes_;
};

}  // namespace trainyard::backend::cpu

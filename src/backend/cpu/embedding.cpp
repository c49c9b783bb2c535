// Embedding lookup and its gradient. Indices may be float (Keras feeds float32 batches) or
// integer tensors; all of them are checked before the first write, so a bad index leaves
// the output and an accumulated table gradient exactly as they were.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_common.h"

namespace trainyard::backend {
namespace {

// "[1, 3]": the position of flat element `flat` in a tensor of `shape`.
std::string position_of(const Shape& shape, int64_t flat) {
  std::vector<int64_t> position(static_cast<size_t>(shape.rank()));
  for (int64_t axis = shape.rank() - 1; axis >= 0; --axis) {
    int64_t dim = shape[axis];
    position[static_cast<size_t>(axis)] = dim == 0 ? 0 : flat % dim;
    flat = dim == 0 ? 0 : flat / dim;
  }
  return Shape(position).to_string();
}

std::string format_value(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return std::to_string(value);
}

class IndexReader {
 public:
  IndexReader(const char* entry, const Tensor& indices, int64_t rows)
      : entry_(entry), indices_(indices), data_(indices.raw_data()), rows_(rows) {
    DType dtype = indices.dtype();
    if (dtype == DType::kBFloat16 || dtype == DType::kFloat16) {
      throw ValueError(std::string(entry) + ": indices of dtype " + std::string(dtype_name(dtype)) +
                       " are not supported");
    }
  }

  // The index at flat position i, unchecked.
  int64_t operator()(int64_t i) const { return static_cast<int64_t>(value(i)); }

  // Throws ValueError for the first index that is not an integer in [0, rows).
  void check_all() const {
    for (int64_t i = 0; i < indices_.num_elements(); ++i) {
      double v = value(i);
      if (v != std::floor(v) || std::isnan(v)) {
        throw ValueError(std::string(entry_) + ": index " + format_value(v) + " at position " +
                         position_of(indices_.shape(), i) + " is not an integer");
      }
      if (!(v >= 0 && v < static_cast<double>(rows_))) {
        throw ValueError(std::string(entry_) + ": index " + format_value(v) + " at position " +
                         position_of(indices_.shape(), i) + " is out of range [0, " +
                         std::to_string(rows_) + ")");
      }
    }
  }

 private:
  double value(int64_t i) const {
    switch (indices_.dtype()) {
      case DType::kFloat32:
        return static_cast<const float*>(data_)[i];
      case DType::kFloat64:
        return static_cast<const double*>(data_)[i];
      case DType::kInt32:
        return static_cast<const int32_t*>(data_)[i];
      case DType::kInt64:
        return static_cast<double>(static_cast<const int64_t*>(data_)[i]);
      case DType::kUInt8:
        return static_cast<const uint8_t*>(data_)[i];
      default:
        return -1;  // rejected in the constructor
    }
  }

  const char* entry_;
  const Tensor& indices_;
  const void* data_;
  int64_t rows_;
};

void check_table(const char* entry, const Tensor& indices, const Tensor& table,
                 const Tensor& values) {
  if (table.shape().rank() != 2 || values.dtype() != table.dtype() ||
      values.num_elements() != indices.num_elements() * table.shape()[1]) {
    throw ShapeError(std::string(entry) + ": indices " + indices.to_string() + ", table " +
                     table.to_string() + " and output " + values.to_string() +
                     " do not fit indices [...] -> table [V, D] rows [..., D]");
  }
}

}  // namespace

void CpuBackend::embedding_forward(const Tensor& indices, const Tensor& table, const Tensor& y) {
  const char* entry = "embedding_forward";
  check_table(entry, indices, table, y);
  IndexReader index(entry, indices, table.shape()[0]);
  index.check_all();
  int64_t width = table.shape()[1];
  cpu::dispatch_float(table.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const T* rows = table.data<T>();
    T* out = y.data<T>();
    cpu::for_range(indices.num_elements(),
                   std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(width, 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t p = begin; p < end; ++p) {
                       std::copy_n(rows + index(p) * width, width, out + p * width);
                     }
                   });
  });
}

void CpuBackend::embedding_backward(const Tensor& indices, const Tensor& y_grad,
                                    const Tensor& table_grad, bool accumulate) {
  const char* entry = "embedding_backward";
  check_table(entry, indices, table_grad, y_grad);
  IndexReader index(entry, indices, table_grad.shape()[0]);
  index.check_all();
  int64_t width = table_grad.shape()[1];
  int64_t positions = indices.num_elements();
  cpu::dispatch_float(table_grad.dtype(), entry, [&](auto zero) {
    using T = decltype(zero);
    const T* dy = y_grad.data<T>();
    T* grad = table_grad.data<T>();
    if (!accumulate) std::fill(grad, grad + table_grad.num_elements(), T(0));
    // Threads split the embedding width, and each walks the positions in order, so a row
    // hit by several positions sums them in the same order on any thread count.
    cpu::for_range(width,
                   std::max<int64_t>(1, cpu::kParallelGrain / std::max<int64_t>(positions, 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t p = 0; p < positions; ++p) {
                       T* row = grad + index(p) * width;
                       const T* source = dy + p * width;
                       for (int64_t j = begin; j < end; ++j) row[j] += source[j];
                     }
                   });
  });
}

}  // namespace trainyard::backend

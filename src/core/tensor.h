// Tensor: a dense, row-major view (shape, dtype, byte offset) of shared Storage.
// Copying a Tensor copies the view, not the elements; views of one Storage alias.
// Thread safety: distinct Tensors may be used from distinct threads; writing the elements
// of aliasing views concurrently is the caller's race.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace trainyard {

class Tensor {
 public:
  // An undefined tensor: no storage; defined() is false.
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, size_t byte_offset, Shape shape, DType dtype);

  // A new zero-filled tensor on `device` (only the CPU allocator exists in this build
  // unless a backend registers another).
  static Tensor zeros(const Shape& shape, DType dtype = DType::kFloat32,
                      Allocator& allocator = cpu_allocator());
  // A new CPU tensor holding `values` (values.size() must equal shape.num_elements()).
  template <typename T>
  static Tensor from_vector(const Shape& shape, std::span<const T> values);
  template <typename T>
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values) {
    return from_vector<T>(shape, std::span<const T>(values));
  }

  // A tensor with a shape and dtype but no storage yet: defined() is false until alias().
  // Executors use it for inputs that are fed a different buffer every step.
  static Tensor placeholder(const Shape& shape, DType dtype);
  // Makes this tensor view `source`'s elements while keeping its own shape and dtype.
  // Allocates nothing, so it is safe in a steady-state step.
  // REQUIRES: source is defined and holds at least nbytes() bytes.
  void alias(const Tensor& source);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const;
  int64_t num_elements() const { return shape_.num_elements(); }
  size_t nbytes() const { return static_cast<size_t>(num_elements()) * dtype_size(dtype_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  size_t byte_offset() const { return byte_offset_; }

  // Typed element pointer. Throws ShapeError if T does not match dtype().
  template <typename T>
  T* data() const {
    if (dtype_of<T>() != dtype_) throw_dtype_mismatch(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;
  // Throws ValueError naming `operation` unless the elements live in host memory: the
  // element-wise helpers below read and write them directly.
  void require_host(const char* operation) const;

  // A view of the same storage with another shape and the same element count.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) along dimension 0, sharing storage.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // A view of `shape`/`dtype` starting `byte_offset` bytes into this tensor.
  Tensor view(size_t byte_offset, const Shape& shape, DType dtype) const;

  // The helpers from here to item() need a CPU tensor (ValueError otherwise); move device
  // tensors with backend::to_device first.
  // A deep copy with fresh storage.
  Tensor clone() const;
  // Copies the elements of `source` (same shape and dtype) into this tensor.
  void copy_from(const Tensor& source) const;
  // Sets every element to `value` (converted to dtype()).
  void fill(double value) const;
  // Element-wise conversion into a new tensor of `dtype`, each value multiplied by `scale`
  // first (CPU only): images.cast(DType::kFloat32, 1.0 / 255) is Keras's `images / 255.0`.
  Tensor cast(DType dtype, double scale = 1.0) const;

  template <typename T>
  std::vector<T> to_vector() const {
    require_host("Tensor::to_vector");
    const T* begin = data<T>();
    return std::vector<T>(begin, begin + num_elements());
  }
  // Element i (flat index) converted to double; for tests and printing.
  double item(int64_t flat_index = 0) const;

  std::string to_string() const;  // "Tensor(shape=[2, 3], dtype=float32, device=cpu:0)"

 private:
  [[noreturn]] void throw_dtype_mismatch(DType requested) const;

  std::shared_ptr<Storage> storage_;
  size_t byte_offset_ = 0;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
};

template <typename T>
Tensor Tensor::from_vector(const Shape& shape, std::span<const T> values) {
  if (static_cast<int64_t>(values.size()) != shape.num_elements()) {
    throw ShapeError("Tensor::from_vector: " + std::to_string(values.size()) +
                     " values do not fill shape " + shape.to_string());
  }
  Tensor tensor = zeros(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(tensor.raw_data(), values.data(), values.size_bytes());
  return tensor;
}

}  // namespace trainyard

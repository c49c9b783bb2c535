#include "core/tensor.h"

#include <cstdint>

#include "core/bfloat16.h"

namespace trainyard {
namespace {

template <typename Function>
void dispatch_numeric(DType dtype, Function&& function) {
  switch (dtype) {
    case DType::kFloat32:
      function(float{});
      return;
    case DType::kFloat64:
      function(double{});
      return;
    case DType::kInt32:
      function(int32_t{});
      return;
    case DType::kInt64:
      function(int64_t{});
      return;
    case DType::kUInt8:
      function(uint8_t{});
      return;
    case DType::kBFloat16:
      function(BFloat16{});
      return;
    case DType::kFloat16:
      break;
  }
  throw ValueError(std::string("element access to ") + std::string(dtype_name(dtype)) +
                   " tensors on the CPU is not supported");
}

}  // namespace

Tensor::Tensor(std::shared_ptr<Storage> storage, size_t byte_offset, Shape shape, DType dtype)
    : storage_(std::move(storage)),
      byte_offset_(byte_offset),
      shape_(std::move(shape)),
      dtype_(dtype) {
  TY_CHECK(storage_ != nullptr, "Tensor needs storage");
  if (byte_offset_ + nbytes() > storage_->bytes()) {
    throw ShapeError("Tensor view of shape " + shape_.to_string() + " at byte offset " +
                     std::to_string(byte_offset_) + " overruns its storage of " +
                     std::to_string(storage_->bytes()) + " bytes");
  }
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Allocator& allocator) {
  for (int64_t dim : shape.dims()) {
    if (dim < 0) throw ShapeError("Tensor::zeros: negative dimension in " + shape.to_string());
  }
  size_t bytes = static_cast<size_t>(shape.num_elements()) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(bytes, allocator), 0, shape, dtype);
}

Tensor Tensor::placeholder(const Shape& shape, DType dtype) {
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.dtype_ = dtype;
  return tensor;
}

void Tensor::alias(const Tensor& source) {
  if (!source.defined() || source.nbytes() < nbytes()) {
    throw ShapeError("Tensor::alias: " + source.to_string() + " cannot back a view of " +
                     to_string());
  }
  storage_ = source.storage_;
  byte_offset_ = source.byte_offset_;
}

Device Tensor::device() const {
  return storage_ ? storage_->device() : cpu_device();
}

void* Tensor::raw_data() const {
  if (!storage_) throw ValueError("access to the elements of an undefined Tensor");
  return static_cast<char*>(storage_->data()) + byte_offset_;
}

void Tensor::require_host(const char* operation) const {
  if (storage_ && !storage_->device().is_cpu()) {
    throw ValueError(std::string(operation) + ": " + to_string() +
                     " lives on a device; copy it to the CPU first (backend::to_device)");
  }
}

void Tensor::throw_dtype_mismatch(DType requested) const {
  throw ShapeError("Tensor::data: tensor holds " + std::string(dtype_name(dtype_)) + " but " +
                   std::string(dtype_name(requested)) + " was requested");
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape.num_elements() != num_elements()) {
    throw ShapeError("Tensor::reshape: cannot view " + shape_.to_string() + " as " +
                     shape.to_string());
  }
  return Tensor(storage_, byte_offset_, shape, dtype_);
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  if (shape_.rank() == 0 || begin < 0 || end < begin || end > shape_[0]) {
    throw ShapeError("Tensor::slice_rows: rows [" + std::to_string(begin) + ", " +
                     std::to_string(end) + ") out of range for shape " + shape_.to_string());
  }
  int64_t row_elements = shape_.num_elements() / std::max<int64_t>(shape_[0], 1);
  size_t row_bytes = static_cast<size_t>(row_elements) * dtype_size(dtype_);
  return Tensor(storage_, byte_offset_ + static_cast<size_t>(begin) * row_bytes,
                shape_.with_batch(end - begin), dtype_);
}

Tensor Tensor::view(size_t byte_offset, const Shape& shape, DType dtype) const {
  return Tensor(storage_, byte_offset_ + byte_offset, shape, dtype);
}

Tensor Tensor::clone() const {
  require_host("Tensor::clone");
  Tensor copy = zeros(shape_, dtype_);
  copy.copy_from(*this);
  return copy;
}

void Tensor::copy_from(const Tensor& source) const {
  if (source.shape_ != shape_ || source.dtype_ != dtype_) {
    throw ShapeError("Tensor::copy_from: source " + source.to_string() +
                     " does not match destination " + to_string());
  }
  require_host("Tensor::copy_from");
  source.require_host("Tensor::copy_from");
  if (nbytes() > 0) std::memmove(raw_data(), source.raw_data(), nbytes());
}

void Tensor::fill(double value) const {
  require_host("Tensor::fill");
  dispatch_numeric(dtype_, [&](auto zero) {
    using T = decltype(zero);
    T* out = static_cast<T*>(raw_data());
    T converted = static_cast<T>(value);
    const int64_t count = num_elements();
    for (int64_t i = 0; i < count; ++i) out[i] = converted;
  });
}

Tensor Tensor::cast(DType dtype, double scale) const {
  require_host("Tensor::cast");
  Tensor result = zeros(shape_, dtype);
  dispatch_numeric(dtype_, [&](auto source_zero) {
    using Source = decltype(source_zero);
    const Source* in = static_cast<const Source*>(raw_data());
    dispatch_numeric(dtype, [&](auto target_zero) {
      using Target = decltype(target_zero);
      Target* out = static_cast<Target*>(result.raw_data());
      const int64_t count = num_elements();
      if (scale == 1.0) {
        for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Target>(in[i]);
        return;
      }
      for (int64_t i = 0; i < count; ++i) {
        out[i] = static_cast<Target>(static_cast<double>(in[i]) * scale);
      }
    });
  });
  return result;
}

double Tensor::item(int64_t flat_index) const {
  if (flat_index < 0 || flat_index >= num_elements()) {
    throw ShapeError("Tensor::item: index " + std::to_string(flat_index) +
                     " out of range for shape " + shape_.to_string());
  }
  require_host("Tensor::item");
  double value = 0;
  dispatch_numeric(dtype_, [&](auto zero) {
    using T = decltype(zero);
    value = static_cast<double>(static_cast<const T*>(raw_data())[flat_index]);
  });
  return value;
}

std::string Tensor::to_string() const {
  return "Tensor(shape=" + shape_.to_string() + ", dtype=" + std::string(dtype_name(dtype_)) +
         ", device=" + device().to_string() + ")";
}

}  // namespace trainyard

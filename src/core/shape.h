// The dimensions of a tensor, outermost first: [batch, ..., features].
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace trainyard {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}
  explicit Shape(std::span<const int64_t> dims) : dims_(dims.begin(), dims.end()) {}

  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  // Number of elements: the product of the dimensions (1 for a scalar).
  int64_t num_elements() const;
  // Dimension i; negative i counts from the end as in Python.
  int64_t operator[](int64_t i) const;
  int64_t& operator[](int64_t i);
  const std::vector<int64_t>& dims() const { return dims_; }

  // Dimensions [begin, rank) as a new shape (begin may be negative).
  Shape drop_front(int64_t count) const;
  Shape with_batch(int64_t batch) const;  // this shape with dim 0 replaced

  bool operator==(const Shape& other) const = default;

  // "[32, 784]"
  std::string to_string() const;
  // Keras's summary form with an unknown batch: "(None, 784)".
  std::string to_keras_string() const;

 private:
  std::vector<int64_t> dims_;
};

}  // namespace trainyard

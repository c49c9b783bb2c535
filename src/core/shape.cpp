#include "core/shape.h"

#include "core/error.h"

namespace trainyard {

int64_t Shape::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : dims_) count *= dim;
  return count;
}

int64_t Shape::operator[](int64_t i) const {
  int64_t index = i < 0 ? i + rank() : i;
  if (index < 0 || index >= rank()) {
    throw ShapeError("dimension " + std::to_string(i) + " is out of range for shape " +
                     to_string());
  }
  return dims_[static_cast<size_t>(index)];
}

int64_t& Shape::operator[](int64_t i) {
  int64_t index = i < 0 ? i + rank() : i;
  if (index < 0 || index >= rank()) {
    throw ShapeError("dimension " + std::to_string(i) + " is out of range for shape " +
                     to_string());
  }
  return dims_[static_cast<size_t>(index)];
}

Shape Shape::drop_front(int64_t count) const {
  if (count < 0 || count > rank()) {
    throw ShapeError("cannot drop " + std::to_string(count) + " dimensions of shape " +
                     to_string());
  }
  return Shape(std::vector<int64_t>(dims_.begin() + count, dims_.end()));
}

Shape Shape::with_batch(int64_t batch) const {
  Shape result = *this;
  result[0] = batch;
  return result;
}

std::string Shape::to_string() const {
  std::string text = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(dims_[i]);
  }
  return text + "]";
}

std::string Shape::to_keras_string() const {
  std::string text = "(";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i > 0) text += ", ";
    text += (i == 0 && dims_[i] < 0) ? "None" : std::to_string(dims_[i]);
  }
  if (dims_.size() == 1) text += ",";
  return text + ")";
}

}  // namespace trainyard

// Tensors: the x or y that fit, evaluate, predict and train_on_batch take, in the three forms Keras
// takes them: one array, a list in the model's input (or output) order, or a dict by input (or
// output) name.
//
//   model.fit(x, y);                                        // one input, one output
//   model.fit({image, metadata}, {label, score});           // lists
//   model.fit({{"image", image}, {"meta", metadata}}, y);   // by name
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace trainyard::keras {

class Tensors {
 public:
  Tensors() = default;
  Tensors(const Tensor& tensor);                // NOLINT(google-explicit-constructor)
  Tensors(std::initializer_list<Tensor> list);  // NOLINT(google-explicit-constructor)
  Tensors(std::vector<Tensor> list);            // NOLINT(google-explicit-constructor)
  Tensors(std::initializer_list<std::pair<const std::string, Tensor>> named);  // NOLINT
  Tensors(std::map<std::string, Tensor> named);  // NOLINT(google-explicit-constructor)

  // Nothing given (no tensor, list or map entry).
  bool empty() const { return list_.empty() && named_.empty(); }
  bool is_named() const { return !named_.empty(); }

  // The tensors in the order of `names` (the model's input or output names): a list as given, a map
  // looked up by name. Throws ValueError naming `what` ("fit: x") when a list has another length,
  // or a map lacks a name or holds one the model does not have.
  std::vector<Tensor> in_order(const std::vector<std::string>& names,
                               const std::string& what) const;

 private:
  std::vector<Tensor> list_;
  std::map<std::string, Tensor> named_;
};

}  // namespace trainyard::keras

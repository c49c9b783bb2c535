#include "keras/tensors.h"

#include <algorithm>

#include "core/error.h"

namespace trainyard::keras {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "'" : ", '") + name + "'";
  return text;
}

}  // namespace

Tensors::Tensors(const Tensor& tensor) : list_{tensor} {}
Tensors::Tensors(std::initializer_list<Tensor> list) : list_(list) {}
Tensors::Tensors(std::vector<Tensor> list) : list_(std::move(list)) {}
Tensors::Tensors(std::initializer_list<std::pair<const std::string, Tensor>> named)
    : named_(named) {}
Tensors::Tensors(std::map<std::string, Tensor> named) : named_(std::move(named)) {}

std::vector<Tensor> Tensors::in_order(const std::vector<std::string>& names,
                                      const std::string& what) const {
  if (!is_named()) {
    if (list_.size() != names.size()) {
      throw ValueError(what + ": the model expects " + std::to_string(names.size()) +
                       " array(s) (" + join(names) + "), got " + std::to_string(list_.size()));
    }
    return list_;
  }
  std::vector<Tensor> ordered;
  for (const std::string& name : names) {
    auto it = named_.find(name);
    if (it == named_.end()) {
      throw ValueError(what + ": no array named '" + name + "'; the model expects " + join(names));
    }
    ordered.push_back(it->second);
  }
  for (const auto& [name, tensor] : named_) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw ValueError(what + ": the model has no input or output named '" + name +
                       "'; it expects " + join(names));
    }
  }
  return ordered;
}

}  // namespace trainyard::keras

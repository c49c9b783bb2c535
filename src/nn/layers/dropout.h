// Dropout: during training, zeroes each input with probability `rate` and scales the rest
// by 1 / (1 - rate); identity at inference (Keras's inverted dropout).
#pragma once

#include <optional>

#include "nn/layer.h"

namespace trainyard::nn {

struct DropoutOptions {
  std::optional<uint64_t> seed;  // unset: drawn from the global seed stream
  std::string name;
};

class Dropout final : public Layer {
 public:
  // REQUIRES: 0 <= rate <= 1 (ValueError otherwise).
  explicit Dropout(double rate, DropoutOptions options = {});
  double rate() const { return rate_; }
  Shape compute_output_shape(const Shape& input_shape) const override { return input_shape; }
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;
  bool supports_mixed_precision() const override { return true; }

 private:
  double rate_;
  uint64_t seed_;
};

}  // namespace trainyard::nn

// ZeroPadding2D, channels_last: [batch, H, W, C] -> [batch, H + top + bottom,
// W + left + right, C] with zeros around each image.
#pragma once

#include <utility>

#include "backend/kernels.h"
#include "nn/layer.h"

namespace trainyard::nn {

// Keras's `padding` argument: one number for every side, (height, width) for symmetric
// padding, or ((top, bottom), (left, right)).
struct Padding2 {
  int64_t top = 1, bottom = 1, left = 1, right = 1;

  Padding2(int64_t all) : top(all), bottom(all), left(all), right(all) {}  // NOLINT
  Padding2(int64_t height, int64_t width)
      : top(height), bottom(height), left(width), right(width) {}
  Padding2(std::pair<int64_t, int64_t> height, std::pair<int64_t, int64_t> width)
      : top(height.first), bottom(height.second), left(width.first), right(width.second) {}
  bool operator==(const Padding2&) const = default;
};

class ZeroPadding2D final : public Layer {
 public:
  // Keras's default padding is 1 on every side. REQUIRES: every amount >= 0 (ValueError).
  explicit ZeroPadding2D(Padding2 padding = 1, std::string name = "");

  const Padding2& padding() const { return padding_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

 private:
  Padding2 padding_;
};

}  // namespace trainyard::nn

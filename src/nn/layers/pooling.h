// Pooling layers, channels_last.
// MaxPooling2D / AveragePooling2D: [batch, H, W, C] -> [batch, OH, OW, C].
// GlobalAveragePooling2D / GlobalMaxPooling2D: [batch, H, W, C] -> [batch, C].
#pragma once

#include <optional>

#include "backend/window.h"
#include "nn/layer.h"
#include "nn/layers/window_size.h"

namespace trainyard::nn {

struct PoolingOptions {
  std::optional<Size2> strides;  // unset: the pool size, as in Keras
  std::string padding = "valid";
  std::string name;
};

class Pooling2D final : public Layer {
 public:
  // kind kMax is MaxPooling2D (Keras default pool_size 2), kAverage AveragePooling2D (Keras 3
  // requires the pool size; pass it).
  Pooling2D(backend::PoolKind kind, Size2 pool_size, PoolingOptions options = {});

  backend::PoolKind kind() const { return kind_; }
  const Size2& pool_size() const { return pool_size_; }
  const PoolingOptions& options() const { return options_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

 private:
  backend::Window2d window_for(const Shape& input_shape) const;

  backend::PoolKind kind_;
  Size2 pool_size_;
  PoolingOptions options_;
  backend::Padding padding_;
};

class GlobalPooling2D final : public Layer {
 public:
  explicit GlobalPooling2D(backend::PoolKind kind, std::string name = "");

  backend::PoolKind kind() const { return kind_; }
  Shape compute_output_shape(const Shape& input_shape) const override;
  graph::NodeId call(graph::Graph& graph, graph::NodeId input, const CallContext& context) override;

 private:
  backend::PoolKind kind_;
};

}  // namespace trainyard::nn

// Floating-point operations per sample of a Keras model, layer by layer, counted from the
// built model graph. A multiply-add is 2 FLOPs. docs/advisor.md ("FLOP counts") lists
// what each layer class counts and what the backward pass is assumed to cost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trainyard::nn {
class Layer;
}
namespace trainyard::keras {
class Model;
}

namespace trainyard::advisor {

// One layer's FLOPs for one sample.
struct LayerFlops {
  std::string layer_name;
  std::string class_name;
  int64_t forward = 0;
  // Matmul and convolution layers: input gradient plus kernel gradient, each as costly as
  // the forward product (2x). Elementwise work: as costly as its forward count (1x).
  int64_t backward = 0;
};

struct ModelFlops {
  std::vector<LayerFlops> layers;  // model.layers() order

  int64_t forward_per_sample() const;
  // Forward plus backward: what one training step costs per sample.
  int64_t training_per_sample() const;
};

// The FLOPs of `layer`, which must be built. Throws ValueError naming the layer when it is
// not built or its class is one trainyard does not know how to count.
LayerFlops layer_flops(const nn::Layer& layer);

// Every layer of `model`, which must be built (a model read from a config with an input
// shape is). Throws ValueError when it is not.
ModelFlops count_flops(const keras::Model& model);

}  // namespace trainyard::advisor

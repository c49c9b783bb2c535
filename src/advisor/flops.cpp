#include "advisor/flops.h"

#include <algorithm>
#include <numeric>
#include <span>

#include "core/error.h"
#include "keras/model.h"
#include "nn/layer.h"
#include "nn/layers/conv.h"
#include "nn/layers/dense.h"
#include "nn/layers/pooling.h"

namespace trainyard::advisor {
namespace {

// Elements of one sample: every dimension but the leading batch one.
int64_t per_sample_elements(const Shape& shape) {
  int64_t elements = 1;
  for (int64_t axis = 1; axis < shape.rank(); ++axis) elements *= shape[axis];
  return elements;
}

// A layer's first input shape, whether it was built from one shape or several.
const Shape& first_input_shape(const nn::Layer& layer) {
  if (!layer.input_shapes().empty()) return layer.input_shapes().front();
  return layer.input_shape();
}

Shape output_shape_of(const nn::Layer& layer) {
  if (layer.input_shapes().size() > 1) {
    return layer.compute_output_shape(std::span<const Shape>(layer.input_shapes()));
  }
  return layer.compute_output_shape(first_input_shape(layer));
}

// Bias add and activation: one FLOP per output element each ("linear" is free).
int64_t bias_and_activation(int64_t output_elements, bool use_bias, const std::string& activation) {
  int64_t flops = use_bias ? output_elements : 0;
  if (activation != "linear") flops += output_elements;
  return flops;
}

// A product (matmul or convolution) of `product` FLOPs plus elementwise work.
void add_product(LayerFlops& counted, int64_t product, int64_t elementwise) {
  counted.forward = product + elementwise;
  counted.backward = 2 * product + elementwise;
}

void add_elementwise(LayerFlops& counted, int64_t elementwise) {
  counted.forward = elementwise;
  counted.backward = elementwise;
}

void count_dense(const nn::Dense& dense, LayerFlops& counted) {
  const Shape& input = first_input_shape(dense);
  const int64_t inputs = input[input.rank() - 1];
  const int64_t rows = per_sample_elements(input) / inputs;  // >1 for [batch, steps, K]
  const int64_t outputs = rows * dense.units();
  add_product(counted, 2 * rows * inputs * dense.units(),
              bias_and_activation(outputs, dense.options().use_bias, dense.options().activation));
}

void count_conv2d(const nn::Conv2D& conv, LayerFlops& counted) {
  const Shape& input = first_input_shape(conv);
  const Shape output = output_shape_of(conv);
  const int64_t input_channels = input[3];
  const int64_t output_positions = output[1] * output[2];
  const int64_t product = 2 * conv.kernel_size().height * conv.kernel_size().width *
                          input_channels * conv.filters() * output_positions;
  add_product(counted, product,
              bias_and_activation(per_sample_elements(output), conv.options().use_bias,
                                  conv.options().activation));
}

void count_conv1d(const nn::Conv1D& conv, LayerFlops& counted) {
  const Shape& input = first_input_shape(conv);
  const Shape output = output_shape_of(conv);
  const int64_t product = 2 * conv.kernel_size() * input[2] * conv.filters() * output[1];
  add_product(counted, product,
              bias_and_activation(per_sample_elements(output), conv.options().use_bias,
                                  conv.options().activation));
}

// One comparison or addition per window element per output.
void count_pooling(const nn::Pooling2D& pooling, LayerFlops& counted) {
  const int64_t window = pooling.pool_size().height * pooling.pool_size().width;
  add_elementwise(counted, window * per_sample_elements(output_shape_of(pooling)));
}

// FLOPs per element of the classes that do elementwise work, per docs/advisor.md.
bool count_elementwise_class(const nn::Layer& layer, LayerFlops& counted) {
  const std::string& name = layer.class_name();
  const int64_t input_elements = per_sample_elements(first_input_shape(layer));
  const int64_t output_elements = per_sample_elements(output_shape_of(layer));
  if (name == "InputLayer" || name == "Flatten" || name == "Reshape" || name == "Embedding" ||
      name == "ZeroPadding2D" || name == "Concatenate") {
    add_elementwise(counted, 0);  // data movement only
  } else if (name == "Activation" || name == "Dropout") {
    add_elementwise(counted, input_elements);  // the function, or the mask multiply
  } else if (name == "GlobalAveragePooling2D" || name == "GlobalMaxPooling2D") {
    add_elementwise(counted, input_elements);
  } else if (name == "BatchNormalization" || name == "LayerNormalization") {
    // Subtract the mean, divide by the deviation, scale, shift.
    add_elementwise(counted, 4 * input_elements);
  } else if (name == "Add" || name == "Subtract" || name == "Multiply" || name == "Average" ||
             name == "Maximum" || name == "Minimum") {
    const auto inputs = static_cast<int64_t>(std::max<size_t>(layer.input_shapes().size(), 2));
    add_elementwise(counted, (inputs - 1) * output_elements);
  } else {
    return false;
  }
  return true;
}

}  // namespace

int64_t ModelFlops::forward_per_sample() const {
  return std::accumulate(layers.begin(), layers.end(), int64_t{0},
                         [](int64_t sum, const LayerFlops& layer) { return sum + layer.forward; });
}

int64_t ModelFlops::training_per_sample() const {
  return std::accumulate(
      layers.begin(), layers.end(), int64_t{0},
      [](int64_t sum, const LayerFlops& layer) { return sum + layer.forward + layer.backward; });
}

LayerFlops layer_flops(const nn::Layer& layer) {
  LayerFlops counted{layer.name(), layer.class_name(), 0, 0};
  if (!layer.built() && layer.class_name() != "InputLayer") {
    throw ValueError("layer '" + layer.name() + "' is not built; FLOPs need its input shape");
  }
  if (const auto* dense = dynamic_cast<const nn::Dense*>(&layer)) {
    count_dense(*dense, counted);
  } else if (const auto* conv2d = dynamic_cast<const nn::Conv2D*>(&layer)) {
    count_conv2d(*conv2d, counted);
  } else if (const auto* conv1d = dynamic_cast<const nn::Conv1D*>(&layer)) {
    count_conv1d(*conv1d, counted);
  } else if (const auto* pooling = dynamic_cast<const nn::Pooling2D*>(&layer)) {
    count_pooling(*pooling, counted);
  } else if (layer.class_name() == "InputLayer") {
    return counted;
  } else if (!count_elementwise_class(layer, counted)) {
    throw ValueError("layer '" + layer.name() + "': trainyard cannot count the FLOPs of a " +
                     layer.class_name() + " layer");
  }
  return counted;
}

ModelFlops count_flops(const keras::Model& model) {
  if (model.input_shapes().empty()) {
    throw ValueError(
        "the model is not built: FLOPs need its input shape (give the config an "
        "InputLayer or build the model)");
  }
  ModelFlops counted;
  for (const nn::LayerPtr& layer : model.layers()) counted.layers.push_back(layer_flops(*layer));
  return counted;
}

}  // namespace trainyard::advisor

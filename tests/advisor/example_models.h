// The example CNN the advisor's tests estimate and count: examples/fashion_mnist/cnn.cpp's
// model, layer for layer.
#pragma once

#include "trainyard/keras.h"

namespace trainyard::advisor::testing {

namespace k = trainyard::keras;

inline k::Functional fashion_mnist_cnn() {
  auto images = k::Input({28, 28}, "image");
  auto x = k::layers::Reshape({28, 28, 1})(images);
  x = k::layers::Conv2D(32, 3, {.activation = "relu"})(x);
  x = k::layers::MaxPooling2D(2)(x);
  x = k::layers::Conv2D(64, 3, {.activation = "relu"})(x);
  x = k::layers::MaxPooling2D(2)(x);
  x = k::layers::Flatten()(x);
  x = k::layers::Dense(128, {.activation = "relu"})(x);
  auto logits = k::layers::Dense(10, {.name = "logits"})(x);
  return k::Functional(images, logits, "fashion_mnist_cnn");
}

}  // namespace trainyard::advisor::testing

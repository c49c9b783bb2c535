// The Fashion-MNIST example models and a measured training peak, shared by the CPU and CUDA
// checks of the memory estimate: the peak is the allocator's high-water mark during a short
// fit on synthetic data, less what was live before the model existed (the data).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "advisor/memory_estimate.h"
#include "core/memory_counter.h"
#include "example_models.h"
#include "keras/functional.h"
#include "keras/model_config.h"
#include "keras/sequential.h"
#include "trainyard/keras.h"

namespace trainyard::advisor::testing {

namespace k = trainyard::keras;

// examples/fashion_mnist/model.json, the MLP the built-in trainer's users start from.
inline k::Sequential fashion_mnist_mlp() {
  const char* root = std::getenv("TRAINYARD_SOURCE_DIR");
  std::string source = root != nullptr ? root : TRAINYARD_SOURCE_DIR_FALLBACK;
  std::ifstream file(source + "/examples/fashion_mnist/model.json");
  EXPECT_TRUE(file.good()) << "cannot read examples/fashion_mnist/model.json under " << source;
  std::stringstream text;
  text << file.rdbuf();
  return k::model_from_json(text.str());
}

struct MeasuredFit {
  int64_t measured_peak = 0;
  MemoryEstimate estimate;
};

// Trains the model `make_model()` returns for two steps of `batch` on `device` with Adam, as
// the examples do, and returns the measured peak with the estimate made for the same model
// and batch. The model is made after the counter is reset: its initial weights count.
template <typename MakeModel>
MeasuredFit measure_fit(MakeModel make_model, int64_t batch, Device device) {
  const int64_t samples = 2 * batch;
  std::vector<float> pixels(static_cast<size_t>(samples * 28 * 28));
  std::vector<float> labels(static_cast<size_t>(samples));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i % 251) / 251.0f;
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<float>(i % 10);
  Tensor images = Tensor::from_vector(Shape{samples, 28, 28}, pixels);
  // The arrays stay on the host, as fit() takes them: it stages each batch to the device.
  Tensor targets = Tensor::from_vector(Shape{samples}, labels);

  reset_memory_high_water(device);
  const int64_t live_before = memory_live_bytes(device);
  auto model = make_model();
  model.to(device);
  model.build(Shape{-1, 28, 28});
  model.compile({.optimizer = k::optimizers::Adam(),
                 .loss = k::losses::SparseCategoricalCrossentropy({.from_logits = true}),
                 .metrics = {"accuracy"}});
  model.fit(images, targets, {.batch_size = static_cast<int>(batch), .epochs = 1, .verbose = 0});
  MeasuredFit result;
  result.measured_peak = memory_high_water_bytes(device) - live_before;
  result.estimate = estimate_training_memory(model, batch, "adam", device);
  return result;
}

// Prints the figures docs/advisor.md tabulates, then checks the estimate is within 20%.
inline void expect_within_20_percent(const std::string& label, const MeasuredFit& fit) {
  const MemoryEstimate& e = fit.estimate;
  const double ratio = static_cast<double>(e.total()) / static_cast<double>(fit.measured_peak);
  std::cout << label << ": estimate " << e.total() << " bytes (parameters " << e.parameters
            << ", gradients " << e.gradients << ", optimizer slots " << e.optimizer_slots
            << ", activations " << e.activations << ", workspace " << e.workspace
            << ", allocator overhead " << e.allocator_overhead << "), measured peak "
            << fit.measured_peak << " bytes, ratio " << ratio << "\n";
  EXPECT_GT(fit.measured_peak, 0);
  EXPECT_GE(ratio, 0.8) << label;
  EXPECT_LE(ratio, 1.2) << label;
}

}  // namespace trainyard::advisor::testing

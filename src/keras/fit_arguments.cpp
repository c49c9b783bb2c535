#include "keras/fit_arguments.h"

#include <thread>

#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::keras {

void require_samples(const std::string& method, const std::vector<Tensor>& x,
                     const std::vector<Tensor>& y) {
  int64_t samples = -1;
  const Tensor* first = nullptr;
  auto check = [&](const Tensor& tensor, const std::string& argument) {
    if (!tensor.defined()) throw ValueError(method + ": " + argument + " is undefined");
    if (tensor.shape().rank() < 1) {
      throw ShapeError(method + ": " + argument + " needs a sample dimension, got " +
                       tensor.to_string());
    }
    if (samples >= 0 && tensor.shape()[0] != samples) {
      throw ShapeError(method + ": x and y must hold the same number of samples, got " +
                       first->shape().to_string() + " and " + argument + " " +
                       tensor.shape().to_string());
    }
    samples = tensor.shape()[0];
    first = &tensor;
  };
  for (size_t i = 0; i < x.size(); ++i)
    check(x[i], x.size() == 1 ? "x" : "x[" + std::to_string(i) + "]");
  for (size_t i = 0; i < y.size(); ++i)
    check(y[i], y.size() == 1 ? "y" : "y[" + std::to_string(i) + "]");
}

void require_batch_size(const char* method, int64_t batch_size) {
  if (batch_size < 1) {
    throw ValueError(std::string(method) + ": batch_size must be >= 1, got " +
                     std::to_string(batch_size));
  }
}

void require_verbose(const char* method, int verbose) {
  if (verbose < 0 || verbose > 2) {
    throw ValueError(std::string(method) + ": verbose must be 0, 1 or 2, got " +
                     std::to_string(verbose));
  }
}

void require_fit_options(const FitOptions& options, size_t outputs) {
  require_batch_size("fit", options.batch_size);
  require_verbose("fit", options.verbose);
  if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
    throw ValueError("fit: validation_split must be in [0, 1), got " +
                     std::to_string(options.validation_split));
  }
  if (options.epochs < 0 || options.initial_epoch < 0) {
    throw ValueError("fit: epochs and initial_epoch must be >= 0");
  }
  if (options.steps_per_epoch && *options.steps_per_epoch < 1) {
    throw ValueError(
        "fit: steps_per_epoch must be >= 1 (or unset for one pass over the data), got " +
        std::to_string(*options.steps_per_epoch));
  }
  if (options.validation_freq < 1) {
    throw ValueError("fit: validation_freq must be >= 1, got " +
                     std::to_string(options.validation_freq));
  }
  for (const CallbackPtr& callback : options.callbacks) {
    if (!callback) throw ValueError("fit: callbacks must not be null");
  }
  if (!options.class_weight.empty() && options.sample_weight.defined()) {
    throw ValueError(
        "fit: class_weight and sample_weight cannot be given together (Keras raises too); "
        "fold the class weights into sample_weight");
  }
  if (!options.class_weight.empty() && outputs != 1) {
    throw ValueError("fit: class_weight needs a model with one output, this one has " +
                     std::to_string(outputs) + "; use sample_weight");
  }
}

std::vector<Shape> shapes_of(const std::vector<Tensor>& tensors) {
  std::vector<Shape> shapes;
  for (const Tensor& tensor : tensors) shapes.push_back(tensor.shape());
  return shapes;
}

std::vector<Shape> batch_shapes(const data::Dataset& dataset, size_t first, size_t count) {
  std::vector<Shape> shapes;
  for (size_t i = first; i < first + count; ++i) shapes.push_back(dataset.batch_shape(i));
  return shapes;
}

data::Dataset as_float_dataset(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                               const Tensor& sample_weight) {
  std::vector<Tensor> arrays = x;
  arrays.insert(arrays.end(), y.begin(), y.end());
  if (sample_weight.defined()) arrays.push_back(sample_weight);
  data::Dataset dataset = data::Dataset::from_tensors(arrays);
  for (size_t i = 0; i < arrays.size(); ++i) dataset = dataset.cast(i, DType::kFloat32);
  return dataset;
}

// Gathering runs ahead on its own thread only when a core is free for it and a batch is
// big enough for the gather to outweigh waking that thread each step; otherwise the
// prefetcher steals time from the compute pool (measured on 2 cores: slower at batch 1,
// 32 and 256 with the pool on both cores).
int prefetch_depth(const Shape& batch_shape) {
  constexpr int64_t kPrefetchBytes = 1 << 20;
  unsigned cores = std::thread::hardware_concurrency();
  bool spare_core = cores > static_cast<unsigned>(num_threads());
  bool big_batch = batch_shape.num_elements() * 4 >= kPrefetchBytes;
  return spare_core && big_batch ? 2 : 0;
}

}  // namespace trainyard::keras

// The checks fit(), evaluate() and predict() run on their arguments, and the Datasets they
// build from arrays. Every error names the method and the argument.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "keras/options.h"

namespace trainyard::keras {

// Throws unless every array is defined, has a sample dimension, and all hold as many samples.
void require_samples(const std::string& method, const std::vector<Tensor>& x,
                     const std::vector<Tensor>& y);
void require_batch_size(const char* method, int64_t batch_size);
void require_verbose(const char* method, int verbose);
// The checks of fit's scalar options: batch_size, verbose, validation_split, epochs,
// initial_epoch, steps_per_epoch, validation_freq, callbacks, and class_weight against
// sample_weight and the model's `outputs`.
void require_fit_options(const FitOptions& options, size_t outputs);

std::vector<Shape> shapes_of(const std::vector<Tensor>& tensors);
// The batch shapes of arrays [first, first + count) of a batched dataset.
std::vector<Shape> batch_shapes(const data::Dataset& dataset, size_t first, size_t count);

// x, y and (when defined) the [N] sample weights as one Dataset, every array converted to
// float32 (the compute dtype) while batches are gathered.
data::Dataset as_float_dataset(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                               const Tensor& sample_weight = {});

// How many batches to gather ahead for batches shaped like `batch_shape`.
int prefetch_depth(const Shape& batch_shape);

}  // namespace trainyard::keras

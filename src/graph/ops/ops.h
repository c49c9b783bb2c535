// Factories for the ops layers build graphs from. Each op's forward, backward and shape
// rule live together in the .cpp named after it. Shapes use B for the leading (batch)
// dimensions, K for input features, N for output features, C for classes.
#pragma once

#include <memory>
#include <string>

#include "backend/kernels.h"
#include "backend/window.h"
#include "graph/op.h"

namespace trainyard::graph::ops {

using OpPtr = std::shared_ptr<const Op>;

// (x [B, K], kernel [K, N][, bias [N]]) -> f(x @ kernel + bias)  [B, N], for a linear f or
// one whose derivative follows from its output (backend::derivative_from_output)
OpPtr affine(backend::Activation activation = {});
// (x [B, K], kernel [K, N] bfloat16, master [K, N] float32[, bias [N]]) -> as affine, with
// kernel a bfloat16 copy of master: the kernel gradient goes to master, in float32, and
// none to kernel
OpPtr affine_with_master_kernel(backend::Activation activation = {});
// (x [B, C], bias [C]) -> x + bias
OpPtr bias_add();
// (x) -> f(x); softmax over the last axis
OpPtr activation(backend::Activation activation);
// (x) -> x viewed as `shape` (same element count); no copy in forward
OpPtr reshape(Shape shape);
// (x) -> x converted to `dtype` (float32, float64 or bfloat16; ValueError otherwise), rounding
// to nearest even; the gradient is converted back to x's dtype.
OpPtr cast(DType dtype);
// (x) -> inverted dropout of x with `rate` when the step is a training step, else x
OpPtr dropout(double rate, uint64_t seed);
// (x [N, H, W, C], kernel [KH, KW, C, F][, bias [F]]) -> f(x (*) kernel + bias) [N, OH, OW, F]
// over `window`, with f = `activation` (identity by default). Throws ValueError unless
// backend::derivative_from_output(activation.kind): backward derives f' from the output, and
// overwrites the output's gradient with the gradient before f.
OpPtr conv2d(const backend::Window2d& window, backend::Activation activation = {});
// (x [N, H, W, C]) -> [N, OH, OW, C]: the max or mean of each window
OpPtr pool2d(backend::PoolKind kind, const backend::Window2d& window);
// (y_pred [B, C], y_true [B, C] or [B] for sparse[, sample_weight [B]]) -> scalar loss
OpPtr loss(backend::Loss loss);

// BatchNormalization over the last axis (Keras's axis=-1). Inputs, in order:
// x [B, C][, gamma [C] when scale][, beta [C] when center], moving_mean [C], moving_variance [C].
// Training mode normalizes with the batch mean and biased variance and, in forward, updates
// moving_mean and moving_variance in place (they are non-trainable variables read as inputs
// of this op: the one op in a graph that writes an input). Backward recomputes the batch
// statistics from x. Inference mode normalizes with the moving statistics and only reads
// them. No gradient flows to the moving statistics.
struct BatchNormOptions {
  bool training = false;  // Keras: training and layer.trainable
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool scale = true;   // gamma input present
  bool center = true;  // beta input present
  // Keras's synchronized=True: in a training step that has StepInfo::cross_replica, the
  // statistics (and their gradients) are those of the global batch over every replica; CPU
  // tensors only. Without cross_replica it is the plain batch normalization.
  bool synchronized = false;
};
OpPtr batch_norm(const BatchNormOptions& options);
// (x [B, C][, gamma [C] when scale][, beta [C] when center]) -> each row of x normalized by
// its own mean and biased variance, times gamma plus beta.
OpPtr layer_norm(double epsilon, bool scale, bool center);
// (indices [B...] of any float or integer dtype, table [V, D]) -> table rows [B..., D].
// Indices get no gradient. `layer` names the layer in bad-index errors.
OpPtr embedding(std::string layer = "");
// (x_0, ..., x_{n-1}), n >= 1, all of one shape and dtype -> their elementwise sum.
OpPtr add();
// (s_0, ..., s_{n-1}), n >= 1 scalars (one element each, one dtype) -> their sum, shape [].
// For adding regularization penalties to a loss.
OpPtr add_n();
// (x_0, ..., x_{n-1}), n >= 1 -> joined along `axis` (negative counts from the end); the
// inputs' shapes agree except along that axis.
OpPtr concatenate(int64_t axis);
// (x [N, H, W, C]) -> [N, H + top + bottom, W + left + right, C], zeros around x.
OpPtr zero_pad2d(backend::Padding2d padding);
// (w) -> scalar l1 * sum |w| + l2 * sum w^2: a weight regularizer's penalty.
OpPtr regularizer(double l1, double l2);

}  // namespace trainyard::graph::ops

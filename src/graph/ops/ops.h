// Factories for the ops layers build graphs from. Each op's forward, backward and shape
// rule live together in the .cpp named after it. Shapes use B for the leading (batch)
// dimensions, K for input features, N for output features, C for classes.
#pragma once

#include <memory>

#include "backend/kernels.h"
#include "backend/window.h"
#include "graph/op.h"

namespace trainyard::graph::ops {

using OpPtr = std::shared_ptr<const Op>;

// (x [B, K], kernel [K, N][, bias [N]]) -> x @ kernel + bias  [B, N]
OpPtr affine();
// (x [B, C], bias [C]) -> x + bias
OpPtr bias_add();
// (x) -> f(x); softmax over the last axis
OpPtr activation(backend::Activation activation);
// (x) -> x viewed as `shape` (same element count); no copy in forward
OpPtr reshape(Shape shape);
// (x) -> inverted dropout of x with `rate` when the step is a training step, else x
OpPtr dropout(double rate, uint64_t seed);
// (x [N, H, W, C], kernel [KH, KW, C, F][, bias [F]]) -> [N, OH, OW, F] over `window`
OpPtr conv2d(const backend::Window2d& window);
// (x [N, H, W, C]) -> [N, OH, OW, C]: the max or mean of each window
OpPtr pool2d(backend::PoolKind kind, const backend::Window2d& window);
// (y_pred [B, C], y_true [B, C] or [B] for sparse[, sample_weight [B]]) -> scalar loss
OpPtr loss(backend::Loss loss);

}  // namespace trainyard::graph::ops

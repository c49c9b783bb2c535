// SyncBatchNormalization's training step on one replica: the batch mean and biased variance
// of the global batch (every replica's rows), and the matching gradients, from the replica's
// own rows plus sums over the replicas. With dy each replica's gradient of its own loss,
// dx = gamma / sigma * (dy - sum(dy) / N - xhat * sum(dy * xhat) / N) with the sums and N
// over all replicas: the gradient of the replicas' summed losses, which the data-parallel
// gradient average then scales, as one model on the global batch would compute it. gamma
// and beta get the replica's own sums, which that average adds up.
// CPU tensors of float32 or float64 only (ValueError otherwise).
#pragma once

#include "backend/backend.h"
#include "graph/op.h"

namespace trainyard::graph::ops {

void synchronized_batch_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                     double epsilon, double momentum, const Tensor& moving_mean,
                                     const Tensor& moving_variance, const Tensor& y,
                                     CrossReplicaSum& replicas);

void synchronized_batch_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                      const Tensor& y_grad, const backend::NormGradients& grads,
                                      CrossReplicaSum& replicas);

}  // namespace trainyard::graph::ops

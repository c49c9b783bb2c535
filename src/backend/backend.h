// Backend: the kernels of one device family behind a narrow interface. Ops in src/graph
// call these entries; the CPU backend always builds and is the reference every other
// backend is compared with.
//
// Conventions for every entry:
//  - Tensors are dense row-major views that live on this backend's device, and all float
//    tensors of one call share a dtype (float32, or float64 for gradient checks).
//  - "rows" means all leading dimensions flattened: a [B, T, C] tensor is B*T rows of C.
//  - `accumulate` = true adds into the destination; false overwrites it. Backward passes
//    use it so a tensor read by several ops gets its gradient summed without a zeroing pass.
//  - Entries throw ShapeError/ValueError naming the entry on misuse, InternalError on bugs.
//  - No entry allocates memory: scratch space comes from the caller.
// Thread safety: one backend object may be used by one thread at a time.
#pragma once

#include "backend/kernels.h"
#include "backend/window.h"
#include "core/device.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace trainyard::backend {

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual Allocator& allocator() = 0;

  // ---- memory -------------------------------------------------------------------------
  virtual void fill(const Tensor& out, double value) = 0;
  // out = source, or out += source when accumulate. Same element count and dtype.
  virtual void copy(const Tensor& source, const Tensor& out, bool accumulate) = 0;

  // ---- matrix products ----------------------------------------------------------------
  // c = alpha * op(a) @ op(b) + beta * c, where op transposes when asked. a, b, c are
  // viewed as matrices: [rows, last dim]. Shapes: op(a) [M, K], op(b) [K, N], c [M, N].
  virtual void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b,
                      const Tensor& c, double alpha, double beta) = 0;

  // ---- elementwise --------------------------------------------------------------------
  // out[r, j] = x[r, j] + bias[j]. x, out: [rows, C]; bias: [C].
  virtual void bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) = 0;
  // bias_grad[j] (+)= sum over rows of output_grad[r, j].
  virtual void bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                                 bool accumulate) = 0;
  // y = f(x). Softmax runs over the last axis.
  virtual void activation_forward(const Activation& activation, const Tensor& x,
                                  const Tensor& y) = 0;
  // x_grad (+)= f'(x) * y_grad, given the forward input x and output y.
  virtual void activation_backward(const Activation& activation, const Tensor& x, const Tensor& y,
                                   const Tensor& y_grad, const Tensor& x_grad, bool accumulate) = 0;
  // Inverted dropout: y = x * keep / (1 - rate) with keep drawn from Philox(seed, step)
  // per element, so backward recomputes the same mask instead of storing it.
  virtual void dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                               const Tensor& y) = 0;
  virtual void dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                                const Tensor& x_grad, bool accumulate) = 0;

  // ---- convolution and pooling (channels_last) -----------------------------------------
  // y [N, OH, OW, F] = x [N, H, W, C] convolved with kernel [KH, KW, C, F] (HWIO), using
  // the window's strides, dilation and padding (zero padding). No bias.
  virtual void conv2d_forward(const Window2d& window, const Tensor& x, const Tensor& kernel,
                              const Tensor& y) = 0;
  // x_grad [N, H, W, C] (+)= the transposed convolution of y_grad with kernel.
  virtual void conv2d_backward_input(const Window2d& window, const Tensor& y_grad,
                                     const Tensor& kernel, const Tensor& x_grad,
                                     bool accumulate) = 0;
  // kernel_grad [KH, KW, C, F] (+)= the correlation of x with y_grad.
  virtual void conv2d_backward_kernel(const Window2d& window, const Tensor& x, const Tensor& y_grad,
                                      const Tensor& kernel_grad, bool accumulate) = 0;
  // y [N, OH, OW, C]: the max or mean of each window of x [N, H, W, C]. Padded positions
  // never count (average divides by the number of real elements, as TensorFlow does).
  virtual void pool2d_forward(PoolKind kind, const Window2d& window, const Tensor& x,
                              const Tensor& y) = 0;
  // x_grad (+)= y_grad routed back: to the window's first maximum, or spread evenly.
  virtual void pool2d_backward(PoolKind kind, const Window2d& window, const Tensor& x,
                               const Tensor& y, const Tensor& y_grad, const Tensor& x_grad,
                               bool accumulate) = 0;

  // ---- losses -------------------------------------------------------------------------
  // loss (a scalar) = sum over samples of weight * per_sample_loss / number of samples
  // (Keras's sum_over_batch_size). y_pred: [rows, C]; y_true: [rows, C], or [rows] / [rows, 1]
  // for sparse losses; sample_weight: [rows] or undefined for all ones.
  virtual void loss_forward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                            const Tensor& sample_weight, const Tensor& loss_value) = 0;
  // y_pred_grad (+)= d loss / d y_pred * loss_grad (a scalar tensor).
  virtual void loss_backward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                             const Tensor& sample_weight, const Tensor& loss_grad,
                             const Tensor& y_pred_grad, bool accumulate) = 0;

  // ---- metrics ------------------------------------------------------------------------
  // state (float64 [2]: total, count) += (sum of per-sample values, number of samples).
  virtual void metric_update(const Metric& metric, const Tensor& y_pred, const Tensor& y_true,
                             const Tensor& state) = 0;
  // state (float64 [2]) += (value * weight, weight); value is a scalar tensor. For the
  // batch-size-weighted running mean of the loss.
  virtual void mean_update(const Tensor& value, double weight, const Tensor& state) = 0;

  // ---- optimizers ---------------------------------------------------------------------
  // One update of flat parameter, gradient and slot buffers of equal element count (all
  // trainable variables of a model packed together, so the whole update is one pass).
  // Slots by kind: SGD {momentum}; Adam/AdamW {momentum, velocity[, velocity_hat]};
  // RMSprop {velocity, momentum, average_gradient}. Unused slots may be undefined.
  virtual void optimizer_update(const OptimizerStep& step, const Tensor& parameters,
                                const Tensor& gradients, const Tensor& slot_0, const Tensor& slot_1,
                                const Tensor& slot_2) = 0;
};

// The CPU backend (OpenBLAS for matrix products, vectorised loops for the rest, run on
// compute_pool()). Lives for the whole process.
Backend& cpu_backend();

// The backend that owns `device`'s kernels. Throws ValueError when this build has none.
Backend& backend_for(const Device& device);

}  // namespace trainyard::backend

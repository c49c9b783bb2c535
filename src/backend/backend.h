// Backend: the kernels of one device family behind a narrow interface. Ops in src/graph
// call these entries; the CPU backend always builds and is the reference every other
// backend is compared with.
//
// Conventions for every entry:
//  - Tensors are dense row-major views that live on this backend's device, and all float
//    tensors of one call share a dtype (float32, or float64 for gradient checks), except
//    cast's. bfloat16 (mixed precision) is accepted by cast, fill, copy, matmul, bias_add,
//    bias_add_backward, the activations, bias_activation_backward and dropout, which
//    compute in float32 and store bfloat16; any other entry given bfloat16 throws
//    ValueError naming the entry and the dtype.
//  - "rows" means all leading dimensions flattened: a [B, T, C] tensor is B*T rows of C.
//  - `accumulate` = true adds into the destination; false overwrites it. Backward passes
//    use it so a tensor read by several ops gets its gradient summed without a zeroing pass.
//  - Entries throw ShapeError/ValueError naming the entry on misuse, InternalError on bugs.
//  - No entry allocates memory: scratch space comes from the caller.
// Thread safety: one backend object may be used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <span>

#include "backend/kernels.h"
#include "backend/window.h"
#include "core/device.h"
#include "core/error.h"
#include "core/storage.h"
#include "core/tensor.h"

namespace trainyard::backend {

// Where a normalization backward writes. A null or undefined gradient is not needed; the
// others are overwritten, or added into when their accumulate flag is set. Holds pointers,
// so building one in a training step allocates nothing.
struct NormGradients {
  const Tensor* x_grad = nullptr;
  bool accumulate_x = false;
  const Tensor* gamma_grad = nullptr;
  bool accumulate_gamma = false;
  const Tensor* beta_grad = nullptr;
  bool accumulate_beta = false;
};

// One variable's elements inside a flat buffer of several: [offset, offset + size).
struct BufferSegment {
  int64_t offset = 0;
  int64_t size = 0;
  bool operator==(const BufferSegment&) const = default;
};

// Keras's gradient clipping (keras-semantics.md section 3.1), with its threshold c > 0.
enum class ClipMode {
  kNorm,        // clipnorm: each variable's gradient to L2 norm at most c
  kGlobalNorm,  // global_clipnorm: all gradients scaled together to global norm at most c
  kValue,       // clipvalue: each element into [-c, c]
};
struct GradientClip {
  ClipMode mode = ClipMode::kNorm;
  double threshold = 1.0;
};

// The values of one training step that change from step to step. A captured step reads them
// from device memory that set_step_scalars fills before each replay; everything else an entry
// takes by value is frozen into the capture.
struct StepScalars {
  uint64_t dropout_step = 0;               // the StepInfo::step dropout entries are given
  std::optional<OptimizerStep> optimizer;  // the update optimizer_update is given, if any
};

// Work recorded by a backend's begin_capture / end_capture, replayed with replay().
class CapturedWork {
 public:
  virtual ~CapturedWork() = default;
};

// Thrown while capturing by an entry that cannot be recorded (it would allocate, wait for
// the device, copy from host memory, or take a per-step value StepScalars does not carry).
// The caller abandons the capture and runs the step eagerly.
class CaptureError : public Error {
 public:
  using Error::Error;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual Allocator& allocator() = 0;

  // ---- memory -------------------------------------------------------------------------
  virtual void fill(const Tensor& out, double value) = 0;
  // Copies between host memory and this backend's device: out (on this device) = the bytes
  // of host_source (a CPU tensor), and host_out = the bytes of source (on this device). Same
  // byte count. copy_to_host returns once host_out holds the data. The defaults are memcpy,
  // for backends whose memory is the host's.
  virtual void copy_from_host(const Tensor& host_source, const Tensor& out);
  virtual void copy_to_host(const Tensor& source, const Tensor& host_out);
  // Returns once every entry called so far has finished (device backends queue their work).
  virtual void synchronize() {}
  // out = source, or out += source when accumulate. Same element count and dtype.
  virtual void copy(const Tensor& source, const Tensor& out, bool accumulate) = 0;
  // out = source converted to out's dtype (float32, float64, bfloat16 in any direction; the
  // same dtype copies), or out = out + source when accumulate, added in out's compute type
  // and rounded once. Narrowing rounds to nearest even; NaN stays NaN, values beyond the
  // target's range become infinities. Same element count (ShapeError otherwise).
  virtual void cast(const Tensor& source, const Tensor& out, bool accumulate) = 0;

  // ---- matrix products ----------------------------------------------------------------
  // c = alpha * op(a) @ op(b) + beta * c, where op transposes when asked. a, b, c are
  // viewed as matrices: [rows, last dim]. Shapes: op(a) [M, K], op(b) [K, N], c [M, N].
  // bfloat16 products accumulate in float32; bfloat16 a and b may also write a float32 c
  // (mixed precision's kernel gradients, added to a float32 variable's gradient).
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
  // The gradients of y = f(z + bias) from the output y alone, for an f with
  // derivative_from_output (ValueError otherwise): z_grad = f'(z) * y_grad (z_grad may be y_grad
  // itself), then bias_grad [C] (+)= z_grad summed over rows, the same bits on any thread count.
  // An undefined bias_grad is not computed. y, y_grad, z_grad: [rows, C].
  // Optional entry: the default calls activation_backward and bias_add_backward.
  virtual void bias_activation_backward(const Activation& activation, const Tensor& y,
                                        const Tensor& y_grad, const Tensor& z_grad,
                                        const Tensor& bias_grad, bool accumulate_bias);
  // y = f(x + bias) in one pass, the same bits as bias_add then activation_forward (x + bias
  // is rounded to the dtype before f). bias [C] may be undefined; f may not be softmax; y
  // may be x. x, y: [rows, C]. Optional entry: the default makes those two calls.
  virtual void bias_activation_forward(const Activation& activation, const Tensor& x,
                                       const Tensor& bias, const Tensor& y);
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
  // y = f(x (*) kernel + bias): conv2d_forward, bias_add and activation_forward as one entry,
  // with the same result. bias [F] may be undefined (no bias); f may not be softmax.
  // Optional entry: the default makes those three calls.
  virtual void conv2d_bias_activation_forward(const Window2d& window, const Activation& activation,
                                              const Tensor& x, const Tensor& kernel,
                                              const Tensor& bias, const Tensor& y);
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
  // A sparse label that is no class index is a ValueError naming the label and its row; a
  // device backend raises it at the host's next wait for the device (copy_to_host,
  // synchronize) rather than stopping every step to check.
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
  // Clips `gradients` in place, a flat buffer whose variables lie at `segments` (ascending,
  // disjoint); elements outside every segment are neither read nor written. Arithmetic in
  // the gradients' dtype, as Keras's, on sums of squares taken in float64 (same bits on any
  // thread count):
  //   kNorm:       per segment, g = g * c / max(||g||, c)
  //   kGlobalNorm: G = sqrt(sum of ||g||^2 over segments), g = g * (c * min(1/G, 1/c));
  //                a G that is inf or NaN makes every gradient NaN, as in Keras
  //   kValue:      g = min(max(g, -c), c); NaN stays NaN
  // Throws ShapeError for a segment outside the buffer, ValueError unless c > 0.
  // Optional entry: the default runs on the host (it is the CPU backend's); a backend whose
  // memory the host cannot read overrides it.
  virtual void clip_gradients(const GradientClip& clip, const Tensor& gradients,
                              std::span<const BufferSegment> segments);

  // ---- normalization ------------------------------------------------------------------
  // x and y are [rows, C], normalized over the last axis C. gamma and beta ([C]) may be
  // undefined, meaning scale 1 and offset 0 (Keras's scale / center turned off). Sums are
  // taken in float64 over fixed row chunks combined in chunk order, so results are the same
  // bits on any thread count.
  //
  // Batch normalization, training mode: y = gamma * (x - mean) / sqrt(var + epsilon) + beta
  // with each column's batch mean and biased variance over all rows. Then, in place:
  // moving_mean = moving_mean * momentum + mean * (1 - momentum), and the same for
  // moving_variance with var. moving_mean, moving_variance: [C].
  virtual void batch_norm_training_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                           double epsilon, double momentum,
                                           const Tensor& moving_mean, const Tensor& moving_variance,
                                           const Tensor& y) = 0;
  // Gradients of the training-mode forward, recomputing the batch statistics from x:
  // dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma / (N sigma) (N dy - dbeta - xhat dgamma).
  virtual void batch_norm_training_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                            const Tensor& y_grad, const NormGradients& grads) = 0;
  // Batch normalization, inference mode: the same formula with the given mean and variance
  // ([C], the moving statistics), which are only read.
  virtual void batch_norm_inference_forward(const Tensor& x, const Tensor& gamma,
                                            const Tensor& beta, const Tensor& mean,
                                            const Tensor& variance, double epsilon,
                                            const Tensor& y) = 0;
  // dx = dy * gamma / sqrt(variance + epsilon), dgamma = sum dy * xhat, dbeta = sum dy.
  virtual void batch_norm_inference_backward(const Tensor& x, const Tensor& gamma,
                                             const Tensor& mean, const Tensor& variance,
                                             double epsilon, const Tensor& y_grad,
                                             const NormGradients& grads) = 0;
  // Layer normalization: each row normalized by its own mean and biased variance, then
  // y = gamma * xhat + beta.
  virtual void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                  double epsilon, const Tensor& y) = 0;
  // Per row, with g = dy * gamma: dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma;
  // dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy.
  virtual void layer_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                   const Tensor& y_grad, const NormGradients& grads) = 0;

  // ---- embedding ----------------------------------------------------------------------
  // y [..., D] = table [V, D] rows picked by indices [...] (float or integer dtype). Every
  // index is checked before anything is written: one that is not an integer in [0, V) is a
  // ValueError naming the value and its position.
  virtual void embedding_forward(const Tensor& indices, const Tensor& table, const Tensor& y) = 0;
  // table_grad [V, D] (+)= y_grad rows scattered by indices, added in position order. Checks
  // the indices as forward does, before table_grad is touched.
  virtual void embedding_backward(const Tensor& indices, const Tensor& y_grad,
                                  const Tensor& table_grad, bool accumulate) = 0;

  // ---- slices and padding -------------------------------------------------------------
  // whole[..., offset : offset + part.shape[axis], ...] = part. part and whole have the same
  // rank, dtype and dimensions except along `axis` (0 <= axis < rank). Concatenate's forward.
  virtual void insert_slice(const Tensor& part, int64_t axis, int64_t offset,
                            const Tensor& whole) = 0;
  // part (+)= whole[..., offset : offset + part.shape[axis], ...]. Concatenate's backward.
  virtual void extract_slice(const Tensor& whole, int64_t axis, int64_t offset, const Tensor& part,
                             bool accumulate) = 0;
  // y [N, H + top + bottom, W + left + right, C] = x [N, H, W, C] surrounded by zeros.
  virtual void zero_pad2d_forward(const Padding2d& padding, const Tensor& x, const Tensor& y) = 0;
  // x_grad (+)= y_grad with the padding cropped off.
  virtual void zero_pad2d_backward(const Padding2d& padding, const Tensor& y_grad,
                                   const Tensor& x_grad, bool accumulate) = 0;

  // ---- weight regularization ----------------------------------------------------------
  // penalty (a scalar) = l1 * sum |w| + l2 * sum w^2 (Keras's L1L2, no 1/2 factor).
  virtual void regularizer_forward(double l1, double l2, const Tensor& weights,
                                   const Tensor& penalty) = 0;
  // weights_grad (+)= (l1 * sign(w) + 2 * l2 * w) * penalty_grad (a scalar tensor).
  virtual void regularizer_backward(double l1, double l2, const Tensor& weights,
                                    const Tensor& penalty_grad, const Tensor& weights_grad,
                                    bool accumulate) = 0;

  // ---- captured steps (optional) ------------------------------------------------------
  // A device backend may record the entries called between begin_capture and end_capture
  // without running them, then queue the recording as one launch per replay (a CUDA graph).
  // The defaults mean "not supported": supports_step_graphs is false and the rest throw
  // ValueError, except abandon_capture, which does nothing.
  virtual bool supports_step_graphs() const { return false; }
  // Queues `scalars` for the work queued after it, so the next replay reads them.
  virtual void set_step_scalars(const StepScalars& scalars);
  // Starts recording on this thread. Entries that cannot be recorded throw CaptureError.
  virtual void begin_capture();
  // Stops recording and returns the work, ready to replay. Throws CaptureError when the
  // device refused the recording.
  virtual std::unique_ptr<CapturedWork> end_capture();
  // Stops a recording that an exception interrupted, discarding it; the backend stays usable.
  virtual void abandon_capture() noexcept {}
  // Queues `work` once. Returns false, queuing nothing, when memory it was recorded with has
  // moved since (a scratch region grew): capture the step again.
  virtual bool replay(const CapturedWork& work);
};

// The CPU backend (OpenBLAS for matrix products, vectorised loops for the rest, run on
// compute_pool()). Lives for the whole process.
Backend& cpu_backend();

// The backend that owns `device`'s kernels. Throws ValueError when this build has none, or
// naming the device when it does not exist on this machine.
Backend& backend_for(const Device& device);

// A copy of `tensor` on `device` (the tensor itself, not a copy, when it is already there).
Tensor to_device(const Tensor& tensor, const Device& device);
// destination = source, wherever each lives. Same element count and dtype
// (ShapeError otherwise). Returns once the destination holds the data when it is on the host.
void copy_into(const Tensor& source, const Tensor& destination);

// Device backends other than the CPU's live in their own library, linked only into programs
// that use them (loading cuBLAS and cuDNN costs every process a tenth of a second); it
// registers its factory here from a static initialiser. The factory returns the backend of
// device index `index`, throwing ValueError for one that does not exist.
using BackendFactory = Backend& (*)(int index);
void register_backend_factory(DeviceType type, BackendFactory factory);

}  // namespace trainyard::backend

// CpuBackend: trainyard's reference kernels. Matrix products go to single-threaded OpenBLAS
// calls that trainyard itself splits across compute_pool(), so both cores work on the small
// GEMMs of a training step instead of OpenBLAS's own threads fighting ours. Everything else
// is plain loops the compiler vectorises, parallel above a size threshold. Each family of
// entries lives in its own .cpp file.
#pragma once

#include "backend/backend.h"
#include "backend/cpu/float32_staging.h"
#include "backend/cpu/scratch.h"

namespace trainyard::backend {

class CpuBackend final : public Backend {
 public:
  CpuBackend();

  Device device() const override { return cpu_device(); }
  Allocator& allocator() override { return cpu_allocator(); }

  void fill(const Tensor& out, double value) override;
  void copy(const Tensor& source, const Tensor& out, bool accumulate) override;
  void cast(const Tensor& source, const Tensor& out, bool accumulate) override;

  void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& c,
              double alpha, double beta) override;

  void bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) override;
  void bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                         bool accumulate) override;
  void activation_forward(const Activation& activation, const Tensor& x, const Tensor& y) override;
  void activation_backward(const Activation& activation, const Tensor& x, const Tensor& y,
                           const Tensor& y_grad, const Tensor& x_grad, bool accumulate) override;
  void bias_activation_backward(const Activation& activation, const Tensor& y, const Tensor& y_grad,
                                const Tensor& z_grad, const Tensor& bias_grad,
                                bool accumulate_bias) override;
  void dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                       const Tensor& y) override;
  void dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                        const Tensor& x_grad, bool accumulate) override;

  void conv2d_forward(const Window2d& window, const Tensor& x, const Tensor& kernel,
                      const Tensor& y) override;
  void conv2d_bias_activation_forward(const Window2d& window, const Activation& activation,
                                      const Tensor& x, const Tensor& kernel, const Tensor& bias,
                                      const Tensor& y) override;
  void conv2d_backward_input(const Window2d& window, const Tensor& y_grad, const Tensor& kernel,
                             const Tensor& x_grad, bool accumulate) override;
  void conv2d_backward_kernel(const Window2d& window, const Tensor& x, const Tensor& y_grad,
                              const Tensor& kernel_grad, bool accumulate) override;
  void pool2d_forward(PoolKind kind, const Window2d& window, const Tensor& x,
                      const Tensor& y) override;
  void pool2d_backward(PoolKind kind, const Window2d& window, const Tensor& x, const Tensor& y,
                       const Tensor& y_grad, const Tensor& x_grad, bool accumulate) override;

  void loss_forward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                    const Tensor& sample_weight, const Tensor& loss_value) override;
  void loss_backward(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                     const Tensor& sample_weight, const Tensor& loss_grad,
                     const Tensor& y_pred_grad, bool accumulate) override;

  void metric_update(const Metric& metric, const Tensor& y_pred, const Tensor& y_true,
                     const Tensor& state) override;
  void mean_update(const Tensor& value, double weight, const Tensor& state) override;

  void optimizer_update(const OptimizerStep& step, const Tensor& parameters,
                        const Tensor& gradients, const Tensor& slot_0, const Tensor& slot_1,
                        const Tensor& slot_2) override;

  void batch_norm_training_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                   double epsilon, double momentum, const Tensor& moving_mean,
                                   const Tensor& moving_variance, const Tensor& y) override;
  void batch_norm_training_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                                    const Tensor& y_grad, const NormGradients& grads) override;
  void batch_norm_inference_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                    const Tensor& mean, const Tensor& variance, double epsilon,
                                    const Tensor& y) override;
  void batch_norm_inference_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                     const Tensor& variance, double epsilon, const Tensor& y_grad,
                                     const NormGradients& grads) override;
  void layer_norm_forward(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                          const Tensor& y) override;
  void layer_norm_backward(const Tensor& x, const Tensor& gamma, double epsilon,
                           const Tensor& y_grad, const NormGradients& grads) override;

  void embedding_forward(const Tensor& indices, const Tensor& table, const Tensor& y) override;
  void embedding_backward(const Tensor& indices, const Tensor& y_grad, const Tensor& table_grad,
                          bool accumulate) override;

  void insert_slice(const Tensor& part, int64_t axis, int64_t offset, const Tensor& whole) override;
  void extract_slice(const Tensor& whole, int64_t axis, int64_t offset, const Tensor& part,
                     bool accumulate) override;
  void zero_pad2d_forward(const Padding2d& padding, const Tensor& x, const Tensor& y) override;
  void zero_pad2d_backward(const Padding2d& padding, const Tensor& y_grad, const Tensor& x_grad,
                           bool accumulate) override;

  void regularizer_forward(double l1, double l2, const Tensor& weights,
                           const Tensor& penalty) override;
  void regularizer_backward(double l1, double l2, const Tensor& weights, const Tensor& penalty_grad,
                            const Tensor& weights_grad, bool accumulate) override;

 private:
  cpu::Scratch matmul_scratch_;  // partial products of a product split over K
  cpu::Scratch conv_scratch_;    // im2col patches
  cpu::Scratch conv_gemm_scratch_;
  cpu::Scratch reduction_scratch_;        // per-chunk partial sums and per-column statistics
  cpu::Float32Staging bfloat16_staging_;  // bfloat16 entries run on float32 copies
};

}  // namespace trainyard::backend

// CpuBackend: trainyard's reference kernels. Matrix products go to single-threaded OpenBLAS
// calls that trainyard itself splits across compute_pool(), so both cores work on the small
// GEMMs of a training step instead of OpenBLAS's own threads fighting ours. Everything else
// is plain loops the compiler vectorises, parallel above a size threshold. Each family of
// entries lives in its own .cpp file.
#pragma once

#include "backend/backend.h"
#include "backend/cpu/scratch.h"

namespace trainyard::backend {

class CpuBackend final : public Backend {
 public:
  CpuBackend();

  Device device() const override { return cpu_device(); }
  Allocator& allocator() override { return cpu_allocator(); }

  void fill(const Tensor& out, double value) override;
  void copy(const Tensor& source, const Tensor& out, bool accumulate) override;

  void matmul(const Tensor& a, bool transpose_a, const Tensor& b, bool transpose_b, const Tensor& c,
              double alpha, double beta) override;

  void bias_add(const Tensor& x, const Tensor& bias, const Tensor& out) override;
  void bias_add_backward(const Tensor& output_grad, const Tensor& bias_grad,
                         bool accumulate) override;
  void activation_forward(const Activation& activation, const Tensor& x, const Tensor& y) override;
  void activation_backward(const Activation& activation, const Tensor& x, const Tensor& y,
                           const Tensor& y_grad, const Tensor& x_grad, bool accumulate) override;
  void dropout_forward(double rate, uint64_t seed, uint64_t step, const Tensor& x,
                       const Tensor& y) override;
  void dropout_backward(double rate, uint64_t seed, uint64_t step, const Tensor& y_grad,
                        const Tensor& x_grad, bool accumulate) override;

  void conv2d_forward(const Window2d& window, const Tensor& x, const Tensor& kernel,
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

 private:
  cpu::Scratch matmul_scratch_;  // partial products of a product split over K
  cpu::Scratch conv_scratch_;    // im2col patches
  cpu::Scratch conv_gemm_scratch_;
};

}  // namespace trainyard::backend

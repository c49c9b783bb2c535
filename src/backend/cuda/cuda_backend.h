// CudaBackend: the engine's kernels on one NVIDIA GPU. Matrix products go to cuBLAS,
// convolutions, pooling and batch normalization to cuDNN, and everything else to
// trainyard's own kernels. All work is queued on one stream per device, so entries return
// before the GPU has finished; copy_to_host and synchronize wait. Each family of entries
// lives in its own file. One object per device index, alive for the whole process.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <array>
#include <memory>

#include "backend/backend.h"
#include "backend/cuda/caching_allocator.h"
#include "backend/cuda/pinned_staging.h"
#include "backend/cuda/step_scalars.h"

namespace trainyard::backend::cuda {

struct CudnnCache;

// The scratch regions an entry may hold at once, each grown on demand and kept.
enum class ScratchSlot : uint8_t {
  kWorkspace,   // cuDNN / cuBLAS workspace
  kLayout,      // a tensor rearranged for a library (HWIO kernels as cuDNN's KRSC)
  kLayoutGrad,  // its gradient in that layout
  kReduction,   // per-block partial sums
  kCount,
};

// Faults kernels find in their inputs (a sparse label that is no class index), kept in device
// memory and raised by the host at its next wait for the GPU, so checking costs a training
// step no synchronization.
struct DeviceFault {
  static constexpr unsigned long long kNoRow = ~0ULL;
  unsigned long long row = kNoRow;  // the first bad row found
  double label = 0;
  long long classes = 0;
  const char* entry = nullptr;  // a string literal naming the entry
  int noted = 0;                // 1 once label, classes and entry describe `row`
};

class CudaBackend final : public Backend {
 public:
  // Creates the stream and the cuBLAS and cuDNN handles on device `index`. Throws ValueError
  // when the device does not exist or the build has no kernels for its architecture.
  explicit CudaBackend(int index);
  ~CudaBackend() override;

  Device device() const override { return Device(DeviceType::kCuda, index_); }
  Allocator& allocator() override { return allocator_; }
  CachingAllocator& caching_allocator() { return allocator_; }

  void fill(const Tensor& out, double value) override;
  void copy(const Tensor& source, const Tensor& out, bool accumulate) override;
  void cast(const Tensor& source, const Tensor& out, bool accumulate) override;
  void copy_from_host(const Tensor& host_source, const Tensor& out) override;
  void copy_to_host(const Tensor& source, const Tensor& host_out) override;
  void synchronize() override;

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
  void bias_activation_forward(const Activation& activation, const Tensor& x, const Tensor& bias,
                               const Tensor& y) override;
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
  void clip_gradients(const GradientClip& clip, const Tensor& gradients,
                      std::span<const BufferSegment> segments) override;

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

  // Steps recorded as CUDA graphs (step_graphs.cpp): stream capture in thread-local mode.
  bool supports_step_graphs() const override { return true; }
  void set_step_scalars(const StepScalars& scalars) override;
  void begin_capture() override;
  std::unique_ptr<CapturedWork> end_capture() override;
  void abandon_capture() noexcept override;
  bool replay(const CapturedWork& work) override;

  // ---- for the kernel files -----------------------------------------------------------
  int index() const { return index_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  const cudaDeviceProp& properties() const { return properties_; }
  CudnnCache& cudnn_cache() { return *cudnn_cache_; }
  // At least `bytes` of device memory for `slot`, valid until the next request for that slot.
  // Grows through the caching allocator, so a steady state allocates nothing.
  void* scratch(ScratchSlot slot, size_t bytes);
  // Makes this backend's device current for the calling thread.
  void activate() const;
  // The fault record kernels write (device memory); the host reads it at its next wait.
  DeviceFault* device_fault() {
    fault_pending_ = true;
    capture_checks_faults_ = capture_checks_faults_ || capturing_;
    return fault_device_;
  }
  // While capturing: the device copy of the step scalars a captured dropout kernel reads its
  // step from, after checking `step` is the one set_step_scalars was given (CaptureError
  // otherwise). Null when not capturing: the kernel uses `step` as given.
  const uint64_t* captured_dropout_step(const char* entry, uint64_t step) const;
  // The same for an optimizer update: its step must be the one set (CaptureError otherwise).
  const DeviceStepScalars* captured_optimizer_step(const OptimizerStep& step) const;
  // Throws CaptureError naming `entry` and `reason` while capturing.
  void refuse_in_capture(const char* entry, const char* reason) const;
  // Throws ValueError naming `entry` and `what` unless the tensor lives on this device.
  void require_here(const char* entry, const char* what, const Tensor& tensor) const;

  // TF32 tensor-core arithmetic for float32 matrix products and convolutions: on by default,
  // as in TensorFlow on Ampere and newer; TRAINYARD_ALLOW_TF32=0 in the environment turns it
  // off at start.
  bool allow_tf32() const { return allow_tf32_; }
  void set_allow_tf32(bool allow);

 private:
  struct Scratch {
    void* data = nullptr;
    size_t bytes = 0;
  };

  int index_;
  cudaDeviceProp properties_{};
  cudaStream_t stream_ = nullptr;
  CachingAllocator allocator_;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  std::unique_ptr<CudnnCache> cudnn_cache_;
  std::unique_ptr<PinnedStaging> staging_;
  std::array<Scratch, static_cast<size_t>(ScratchSlot::kCount)> scratch_{};
  bool allow_tf32_ = true;
  DeviceFault* fault_device_ = nullptr;
  bool fault_pending_ = false;  // a check was queued since the host last read the record
  // Step graphs: whether the stream is recording, whether the recording checks labels (its
  // replays then leave a fault to read), the scalars last set, and their device copy.
  bool capturing_ = false;
  bool capture_checks_faults_ = false;
  StepScalars step_scalars_;
  DeviceStepScalars* step_scalars_device_ = nullptr;
  // Counts scratch regions moved by growth: a recording made before a move is stale.
  uint64_t scratch_generation_ = 0;

  // After the stream has drained: throws the ValueError a kernel recorded, clearing it.
  void raise_device_faults();
};

// The backend of cuda:`index`, created on first use. Throws ValueError when the machine has no
// such device (naming how many it has and why CUDA found none).
CudaBackend& cuda_backend(int index);
// The number of CUDA devices the driver reports; 0 with `reason` filled in when there are none
// or there is no driver.
int cuda_device_count(std::string* reason = nullptr);

}  // namespace trainyard::backend::cuda

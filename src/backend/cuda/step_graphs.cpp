// Training steps recorded once with stream capture and replayed as one CUDA graph launch. The
// per-step values (dropout step, optimizer constants) live in a small device block that
// set_step_scalars refreshes with one queued copy before each replay; the capture itself
// refuses anything that would allocate, wait or read host memory, so a recording is either
// exactly the eager step or no recording at all.
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"

namespace trainyard::backend::cuda {
namespace {

// An instantiated graph and what replaying it implies for the backend.
class CudaCapturedWork final : public CapturedWork {
 public:
  CudaCapturedWork(cudaGraphExec_t graph, cudaStream_t stream, bool checks_faults,
                   uint64_t scratch_generation)
      : graph_(graph),
        stream_(stream),
        checks_faults_(checks_faults),
        scratch_generation_(scratch_generation) {}
  ~CudaCapturedWork() override {
    // A replay may still be running; its buffers belong to the step that owns this work.
    cudaStreamSynchronize(stream_);
    cudaGraphExecDestroy(graph_);
  }
  CudaCapturedWork(const CudaCapturedWork&) = delete;
  CudaCapturedWork& operator=(const CudaCapturedWork&) = delete;

  cudaGraphExec_t graph() const { return graph_; }
  bool checks_faults() const { return checks_faults_; }
  uint64_t scratch_generation() const { return scratch_generation_; }

 private:
  cudaGraphExec_t graph_;
  cudaStream_t stream_;
  bool checks_faults_;
  uint64_t scratch_generation_;
};

bool same_update(const OptimizerStep& a, const OptimizerStep& b) {
  return a.kind == b.kind && a.learning_rate == b.learning_rate &&
         a.weight_decay == b.weight_decay && a.beta_1 == b.beta_1 && a.beta_2 == b.beta_2 &&
         a.epsilon == b.epsilon && a.amsgrad == b.amsgrad && a.momentum == b.momentum &&
         a.nesterov == b.nesterov && a.rho == b.rho && a.centered == b.centered &&
         a.iteration == b.iteration;
}

}  // namespace

void CudaBackend::set_step_scalars(const StepScalars& scalars) {
  refuse_in_capture("set_step_scalars", "the step scalars are set before a capture");
  activate();
  if (step_scalars_device_ == nullptr) {
    step_scalars_device_ =
        static_cast<DeviceStepScalars*>(allocator_.allocate(sizeof(DeviceStepScalars)));
  }
  DeviceStepScalars block{};
  block.dropout_step = scalars.dropout_step;
  if (scalars.optimizer) {
    block.optimizer_float = optimizer_scalars<float>(*scalars.optimizer);
    block.optimizer_double = optimizer_scalars<double>(*scalars.optimizer);
  }
  // Through the pinned ring: the copy reads its own slot when it runs, after earlier replays.
  staging_->copy_to_device(step_scalars_device_, &block, sizeof(block));
  step_scalars_ = scalars;
}

void CudaBackend::begin_capture() {
  TY_CHECK(!capturing_, "begin_capture while a capture is running");
  activate();
  TY_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  capturing_ = true;
  capture_checks_faults_ = false;
  allocator_.set_capturing(true);
}

std::unique_ptr<CapturedWork> CudaBackend::end_capture() {
  TY_CHECK(capturing_, "end_capture without begin_capture");
  cudaGraph_t graph = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph);
  capturing_ = false;
  allocator_.set_capturing(false);
  if (ended != cudaSuccess || graph == nullptr) {
    cudaGetLastError();
    if (graph != nullptr) cudaGraphDestroy(graph);
    throw CaptureError(std::string("cudaStreamEndCapture refused the recording (") +
                       cudaGetErrorName(ended) + ": " + cudaGetErrorString(ended) + ")");
  }
  if (allocator_.deallocated_while_capturing()) {
    cudaGraphDestroy(graph);
    throw CaptureError("device memory was freed while the step was recorded");
  }
  cudaGraphExec_t executable = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&executable, graph, 0);
  cudaGraphDestroy(graph);
  if (instantiated != cudaSuccess) {
    cudaGetLastError();
    throw CaptureError(std::string("cudaGraphInstantiate failed (") +
                       cudaGetErrorName(instantiated) + ": " + cudaGetErrorString(instantiated) +
                       ")");
  }
  return std::make_unique<CudaCapturedWork>(executable, stream_, capture_checks_faults_,
                                            scratch_generation_);
}

void CudaBackend::abandon_capture() noexcept {
  if (!capturing_) return;
  cudaGraph_t graph = nullptr;
  cudaStreamEndCapture(stream_, &graph);  // fails for an invalidated capture; ends it anyway
  if (graph != nullptr) cudaGraphDestroy(graph);
  cudaGetLastError();
  capturing_ = false;
  allocator_.set_capturing(false);
}

bool CudaBackend::replay(const CapturedWork& work) {
  refuse_in_capture("replay", "a recording cannot replay another");
  const auto* recorded = dynamic_cast<const CudaCapturedWork*>(&work);
  TY_CHECK(recorded != nullptr, "replay of work another backend recorded");
  if (recorded->scratch_generation() != scratch_generation_) return false;
  activate();
  TY_CUDA_CHECK(cudaGraphLaunch(recorded->graph(), stream_));
  if (recorded->checks_faults()) fault_pending_ = true;
  return true;
}

const uint64_t* CudaBackend::captured_dropout_step(const char* entry, uint64_t step) const {
  if (!capturing_) return nullptr;
  if (step_scalars_device_ == nullptr || step != step_scalars_.dropout_step) {
    throw CaptureError(std::string(entry) + ": step " + std::to_string(step) +
                       " is not the step scalars' " + std::to_string(step_scalars_.dropout_step));
  }
  return &step_scalars_device_->dropout_step;
}

const DeviceStepScalars* CudaBackend::captured_optimizer_step(const OptimizerStep& step) const {
  if (!capturing_) return nullptr;
  if (step_scalars_device_ == nullptr || !step_scalars_.optimizer ||
      !same_update(step, *step_scalars_.optimizer)) {
    throw CaptureError(
        "optimizer_update: the update is not the one set with set_step_scalars (iteration " +
        std::to_string(step.iteration) + ")");
  }
  return step_scalars_device_;
}

void CudaBackend::refuse_in_capture(const char* entry, const char* reason) const {
  if (capturing_) throw CaptureError(std::string(entry) + " cannot be captured: " + reason);
}

}  // namespace trainyard::backend::cuda

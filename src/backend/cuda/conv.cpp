// 2-D convolution, channels_last, through cuDNN's convolution API. cuDNN reads NHWC tensors but
// not HWIO kernels, so each call rearranges the kernel (or its gradient) as KRSC in scratch; a
// window padded unevenly (Keras's "same" with the extra pixel bottom/right, "causal") is
// convolved over an explicitly zero-padded copy of the input, as cuDNN pads symmetrically only.
// float32 only: cuDNN's NHWC convolutions have no float64 configuration.
#include <cudnn.h>

#include <limits>
#include <string>
#include <vector>

#include "backend/argument_checks.h"
#include "backend/cuda/conv_layout.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cudnn_cache.h"
#include "core/error.h"

namespace trainyard::backend::cuda {
namespace {

// Algorithms asking for more workspace than this are passed over for the next candidate.
constexpr size_t kMaxWorkspaceBytes = size_t{1} << 30;

void check_shapes(const char* entry, const Window2d& w, const Tensor& x, const Tensor& kernel,
                  const Tensor& y) {
  check_conv_arguments(entry, w, x, kernel, y);
  if (x.dtype() != DType::kFloat32) {
    throw ValueError(std::string(entry) +
                     ": the CUDA backend convolves in float32 (cuDNN has no float64 NHWC "
                     "convolution), got " +
                     std::string(dtype_name(x.dtype())));
  }
}

int to_int(const char* entry, int64_t value) {
  if (value < 0 || value > std::numeric_limits<int>::max()) {
    throw ValueError(std::string(entry) + ": dimension " + std::to_string(value) +
                     " is out of cuDNN's range");
  }
  return static_cast<int>(value);
}

// The convolution as cuDNN sees it: over the input itself with symmetric padding, or over a
// zero-padded copy with none.
struct ConvProblem {
  bool padded = false;
  int n = 0, h = 0, w = 0, c = 0, f = 0, kh = 0, kw = 0;
  int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int out_h = 0, out_w = 0;
};

ConvProblem make_problem(const char* entry, const Window2d& window, int64_t filters) {
  ConvProblem p;
  p.padded = window.pad_top != window.pad_bottom || window.pad_left != window.pad_right;
  const int64_t height =
      p.padded ? window.in_height + window.pad_top + window.pad_bottom : window.in_height;
  const int64_t width =
      p.padded ? window.in_width + window.pad_left + window.pad_right : window.in_width;
  p.n = to_int(entry, window.batch);
  p.h = to_int(entry, height);
  p.w = to_int(entry, width);
  p.c = to_int(entry, window.channels);
  p.f = to_int(entry, filters);
  p.kh = to_int(entry, window.window_height);
  p.kw = to_int(entry, window.window_width);
  p.pad_h = p.padded ? 0 : to_int(entry, window.pad_top);
  p.pad_w = p.padded ? 0 : to_int(entry, window.pad_left);
  p.stride_h = to_int(entry, window.stride_height);
  p.stride_w = to_int(entry, window.stride_width);
  p.dilation_h = to_int(entry, window.dilation_height);
  p.dilation_w = to_int(entry, window.dilation_width);
  p.out_h = to_int(entry, window.out_height);
  p.out_w = to_int(entry, window.out_width);
  return p;
}

size_t padded_input_bytes(const ConvProblem& p) {
  return static_cast<size_t>(p.n) * p.h * p.w * p.c * sizeof(float);
}
size_t kernel_bytes(const ConvProblem& p) {
  return static_cast<size_t>(p.f) * p.kh * p.kw * p.c * sizeof(float);
}

void create_descriptors(CudnnCache& cache) {
  if (cache.conv_desc != nullptr) return;
  TY_CUDA_CHECK(cudnnCreateTensorDescriptor(&cache.x_desc));
  TY_CUDA_CHECK(cudnnCreateTensorDescriptor(&cache.y_desc));
  TY_CUDA_CHECK(cudnnCreateFilterDescriptor(&cache.w_desc));
  TY_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&cache.conv_desc));
}

// Describes the problem in the cache's descriptors, with the math type TF32 allows.
void describe(const char* entry, CudnnCache& cache, const ConvProblem& p, bool tf32) {
  create_descriptors(cache);
  TY_CUDA_CHECK(cudnnSetTensor4dDescriptor(cache.x_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, p.n,
                                           p.c, p.h, p.w));
  TY_CUDA_CHECK(cudnnSetTensor4dDescriptor(cache.y_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, p.n,
                                           p.f, p.out_h, p.out_w));
  TY_CUDA_CHECK(cudnnSetFilter4dDescriptor(cache.w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, p.f,
                                           p.c, p.kh, p.kw));
  TY_CUDA_CHECK(cudnnSetConvolution2dDescriptor(cache.conv_desc, p.pad_h, p.pad_w, p.stride_h,
                                                p.stride_w, p.dilation_h, p.dilation_w,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  TY_CUDA_CHECK(
      cudnnSetConvolutionMathType(cache.conv_desc, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  int n = 0, f = 0, h = 0, w = 0;
  TY_CUDA_CHECK(cudnnGetConvolution2dForwardOutputDim(cache.conv_desc, cache.x_desc, cache.w_desc,
                                                      &n, &f, &h, &w));
  if (n != p.n || f != p.f || h != p.out_h || w != p.out_w) {
    throw InternalError(std::string(entry) + ": cuDNN's output " + std::to_string(h) + "x" +
                        std::to_string(w) + " differs from the window's " +
                        std::to_string(p.out_h) + "x" + std::to_string(p.out_w));
  }
}

// Whether a candidate's math is allowed: with TF32 off, FMA only; with it on, also tensor
// cores, but never ALLOW_CONVERSION, which may round float32 data to half precision.
bool math_allowed(cudnnMathType_t math, bool tf32) {
  if (math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;
  return tf32 || math != CUDNN_TENSOR_OP_MATH;
}

// The workspace `algorithm` needs for `direction` with the descriptors as they are, or false
// when cuDNN cannot run it so.
bool workspace_size(CudaBackend& gpu, ConvDirection direction, int algorithm, size_t* bytes) {
  CudnnCache& cache = gpu.cudnn_cache();
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
  switch (direction) {
    case ConvDirection::kForward:
      status = cudnnGetConvolutionForwardWorkspaceSize(
          gpu.cudnn(), cache.x_desc, cache.w_desc, cache.conv_desc, cache.y_desc,
          static_cast<cudnnConvolutionFwdAlgo_t>(algorithm), bytes);
      break;
    case ConvDirection::kBackwardData:
      status = cudnnGetConvolutionBackwardDataWorkspaceSize(
          gpu.cudnn(), cache.w_desc, cache.y_desc, cache.conv_desc, cache.x_desc,
          static_cast<cudnnConvolutionBwdDataAlgo_t>(algorithm), bytes);
      break;
    case ConvDirection::kBackwardFilter:
      status = cudnnGetConvolutionBackwardFilterWorkspaceSize(
          gpu.cudnn(), cache.x_desc, cache.y_desc, cache.conv_desc, cache.w_desc,
          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algorithm), bytes);
      break;
  }
  return status == CUDNN_STATUS_SUCCESS && *bytes <= kMaxWorkspaceBytes;
}

// The first of cuDNN's ranked candidates that succeeds, keeps to the math TF32 allows and
// needs a workspace we grant. Leaves the descriptor set to the chosen math type.
template <typename Perf>
bool pick(CudaBackend& gpu, ConvDirection direction, const std::vector<Perf>& candidates,
          int returned, bool tf32, ConvChoice* choice) {
  CudnnCache& cache = gpu.cudnn_cache();
  for (int i = 0; i < returned; ++i) {
    const Perf& perf = candidates[static_cast<size_t>(i)];
    if (perf.status != CUDNN_STATUS_SUCCESS) continue;
    if (!math_allowed(perf.mathType, tf32)) continue;
    const cudnnMathType_t math = tf32 ? perf.mathType : CUDNN_FMA_MATH;
    TY_CUDA_CHECK(cudnnSetConvolutionMathType(cache.conv_desc, math));
    size_t bytes = 0;
    if (!workspace_size(gpu, direction, static_cast<int>(perf.algo), &bytes)) continue;
    *choice = {static_cast<int>(perf.algo), math, bytes};
    return true;
  }
  return false;
}

bool search(CudaBackend& gpu, ConvDirection direction, bool tf32, ConvChoice* choice) {
  CudnnCache& cache = gpu.cudnn_cache();
  cudnnHandle_t handle = gpu.cudnn();
  int count = 0, returned = 0;
  switch (direction) {
    case ConvDirection::kForward: {
      TY_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(count));
      TY_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, cache.x_desc, cache.w_desc,
                                                           cache.conv_desc, cache.y_desc, count,
                                                           &returned, perf.data()));
      return pick(gpu, direction, perf, returned, tf32, choice);
    }
    case ConvDirection::kBackwardData: {
      TY_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(count));
      TY_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, cache.w_desc, cache.y_desc,
                                                                cache.conv_desc, cache.x_desc,
                                                                count, &returned, perf.data()));
      return pick(gpu, direction, perf, returned, tf32, choice);
    }
    case ConvDirection::kBackwardFilter: {
      TY_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(count));
      TY_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          handle, cache.x_desc, cache.y_desc, cache.conv_desc, cache.w_desc, count, &returned,
          perf.data()));
      return pick(gpu, direction, perf, returned, tf32, choice);
    }
  }
  return false;
}

// Describes the problem and picks its algorithm (cached per shape), leaving the descriptor at
// the chosen math type. Returns the workspace to pass, null when none is needed.
struct Prepared {
  ConvChoice choice;
  void* workspace = nullptr;
};

Prepared prepare(const char* entry, CudaBackend& gpu, ConvDirection direction,
                 const ConvProblem& p) {
  const bool tf32 = gpu.allow_tf32();
  CudnnCache& cache = gpu.cudnn_cache();
  describe(entry, cache, p, tf32);
  ConvKey key;
  key.direction = direction;
  key.geometry = {p.n,     p.h,     p.w,        p.c,        p.f,          p.kh,        p.kw,
                  p.pad_h, p.pad_w, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w};
  key.dtype = static_cast<int>(DType::kFloat32);
  key.tf32 = tf32;
  Prepared prepared;
  auto found = cache.choices.find(key);
  if (found != cache.choices.end()) {
    prepared.choice = found->second;
    TY_CUDA_CHECK(cudnnSetConvolutionMathType(cache.conv_desc, prepared.choice.math_type));
  } else {
    if (!search(gpu, direction, tf32, &prepared.choice)) {
      throw InternalError(std::string(entry) + ": cuDNN offers no algorithm for this convolution");
    }
    cache.choices.emplace(key, prepared.choice);
  }
  if (prepared.choice.workspace_bytes > 0) {
    prepared.workspace = gpu.scratch(ScratchSlot::kWorkspace, prepared.choice.workspace_bytes);
  }
  return prepared;
}

float* floats(const Tensor& tensor) {
  return static_cast<float*>(tensor.raw_data());
}

// The input cuDNN convolves: x itself, or its zero-padded copy in `slot`.
const float* convolved_input(CudaBackend& gpu, const Window2d& window, const ConvProblem& p,
                             const Tensor& x, ScratchSlot slot) {
  if (!p.padded) return floats(x);
  auto* padded = static_cast<float*>(gpu.scratch(slot, padded_input_bytes(p)));
  pad_input(window, floats(x), padded, gpu.stream());
  return padded;
}

const float* krsc_kernel(CudaBackend& gpu, const Window2d& window, const Tensor& kernel) {
  auto* krsc = static_cast<float*>(gpu.scratch(ScratchSlot::kLayout, kernel.nbytes()));
  hwio_to_krsc(floats(kernel), krsc, window.window_height, window.window_width, window.channels,
               kernel.shape()[3], gpu.stream());
  return krsc;
}

// y = x (*) kernel, overwritten. Shapes checked, non-empty.
void run_forward(const char* entry, CudaBackend& gpu, const Window2d& window, const Tensor& x,
                 const Tensor& kernel, const Tensor& y) {
  const ConvProblem p = make_problem(entry, window, kernel.shape()[3]);
  const float* krsc = krsc_kernel(gpu, window, kernel);
  const float* input = convolved_input(gpu, window, p, x, ScratchSlot::kLayoutGrad);
  Prepared prepared = prepare(entry, gpu, ConvDirection::kForward, p);
  CudnnCache& cache = gpu.cudnn_cache();
  const float alpha = 1.0f, beta = 0.0f;
  TY_CUDA_CHECK(cudnnConvolutionForward(
      gpu.cudnn(), &alpha, cache.x_desc, input, cache.w_desc, krsc, cache.conv_desc,
      static_cast<cudnnConvolutionFwdAlgo_t>(prepared.choice.algorithm), prepared.workspace,
      prepared.choice.workspace_bytes, &beta, cache.y_desc, floats(y)));
}

// Whether the convolution has no multiply at all (an empty batch, channel or filter axis).
bool empty(const Tensor& x, const Tensor& kernel, const Tensor& y) {
  return x.num_elements() == 0 || kernel.num_elements() == 0 || y.num_elements() == 0;
}

void zero(CudaBackend& gpu, const Tensor& out) {
  if (out.nbytes() > 0)
    TY_CUDA_CHECK(cudaMemsetAsync(out.raw_data(), 0, out.nbytes(), gpu.stream()));
}

}  // namespace

void CudaBackend::conv2d_forward(const Window2d& window, const Tensor& x, const Tensor& kernel,
                                 const Tensor& y) {
  const char* entry = "conv2d_forward";
  check_shapes(entry, window, x, kernel, y);
  require_here(entry, "x", x);
  require_here(entry, "kernel", kernel);
  require_here(entry, "y", y);
  activate();
  if (empty(x, kernel, y)) return zero(*this, y);
  run_forward(entry, *this, window, x, kernel, y);
}

void CudaBackend::conv2d_bias_activation_forward(const Window2d& window,
                                                 const Activation& activation, const Tensor& x,
                                                 const Tensor& kernel, const Tensor& bias,
                                                 const Tensor& y) {
  const char* entry = "conv2d_bias_activation_forward";
  check_shapes(entry, window, x, kernel, y);
  const int64_t filters = kernel.shape()[3];
  if (bias.defined() && (bias.shape() != Shape{filters} || bias.dtype() != x.dtype())) {
    throw ShapeError(std::string(entry) + ": bias " + bias.to_string() +
                     " does not match the kernel " + kernel.to_string());
  }
  if (activation.kind == ActivationKind::kSoftmax) {
    throw ValueError(std::string(entry) + ": softmax is not elementwise");
  }
  require_here(entry, "x", x);
  require_here(entry, "kernel", kernel);
  require_here(entry, "bias", bias);
  require_here(entry, "y", y);
  activate();
  if (y.num_elements() == 0) return;
  if (empty(x, kernel, y)) {
    zero(*this, y);
  } else {
    run_forward(entry, *this, window, x, kernel, y);
  }
  // cuDNN's fused bias + activation knows only ReLU, so one pass over y does both.
  const float* bias_data = bias.defined() ? floats(bias) : nullptr;
  if (bias_data == nullptr && activation.kind == ActivationKind::kLinear) return;
  bias_activation_in_place(activation, floats(y), bias_data, y.num_elements() / filters, filters,
                           stream_);
}

void CudaBackend::conv2d_backward_input(const Window2d& window, const Tensor& y_grad,
                                        const Tensor& kernel, const Tensor& x_grad,
                                        bool accumulate) {
  const char* entry = "conv2d_backward_input";
  check_shapes(entry, window, x_grad, kernel, y_grad);
  require_here(entry, "y_grad", y_grad);
  require_here(entry, "kernel", kernel);
  require_here(entry, "x_grad", x_grad);
  activate();
  if (x_grad.num_elements() == 0) return;
  if (empty(x_grad, kernel, y_grad)) {
    if (!accumulate) zero(*this, x_grad);
    return;
  }
  const ConvProblem p = make_problem(entry, window, kernel.shape()[3]);
  const float* krsc = krsc_kernel(*this, window, kernel);
  // An unevenly padded window takes the padded input's gradient, then crops it.
  float* dx = p.padded
                  ? static_cast<float*>(scratch(ScratchSlot::kLayoutGrad, padded_input_bytes(p)))
                  : floats(x_grad);
  Prepared prepared = prepare(entry, *this, ConvDirection::kBackwardData, p);
  CudnnCache& cache = *cudnn_cache_;
  const float alpha = 1.0f;
  const float beta = accumulate && !p.padded ? 1.0f : 0.0f;
  TY_CUDA_CHECK(cudnnConvolutionBackwardData(
      cudnn_, &alpha, cache.w_desc, krsc, cache.y_desc, floats(y_grad), cache.conv_desc,
      static_cast<cudnnConvolutionBwdDataAlgo_t>(prepared.choice.algorithm), prepared.workspace,
      prepared.choice.workspace_bytes, &beta, cache.x_desc, dx));
  if (p.padded) crop_input_grad(window, dx, floats(x_grad), accumulate, stream_);
}

void CudaBackend::conv2d_backward_kernel(const Window2d& window, const Tensor& x,
                                         const Tensor& y_grad, const Tensor& kernel_grad,
                                         bool accumulate) {
  const char* entry = "conv2d_backward_kernel";
  check_shapes(entry, window, x, kernel_grad, y_grad);
  require_here(entry, "x", x);
  require_here(entry, "y_grad", y_grad);
  require_here(entry, "kernel_grad", kernel_grad);
  activate();
  if (kernel_grad.num_elements() == 0) return;
  if (empty(x, kernel_grad, y_grad)) {
    if (!accumulate) zero(*this, kernel_grad);
    return;
  }
  const ConvProblem p = make_problem(entry, window, kernel_grad.shape()[3]);
  const float* input = convolved_input(*this, window, p, x, ScratchSlot::kLayout);
  // cuDNN writes the gradient in KRSC; the HWIO one is rearranged from it, adding if asked.
  auto* krsc_grad = static_cast<float*>(scratch(ScratchSlot::kLayoutGrad, kernel_bytes(p)));
  Prepared prepared = prepare(entry, *this, ConvDirection::kBackwardFilter, p);
  CudnnCache& cache = *cudnn_cache_;
  const float alpha = 1.0f, beta = 0.0f;
  TY_CUDA_CHECK(cudnnConvolutionBackwardFilter(
      cudnn_, &alpha, cache.x_desc, input, cache.y_desc, floats(y_grad), cache.conv_desc,
      static_cast<cudnnConvolutionBwdFilterAlgo_t>(prepared.choice.algorithm), prepared.workspace,
      prepared.choice.workspace_bytes, &beta, cache.w_desc, krsc_grad));
  krsc_to_hwio(krsc_grad, floats(kernel_grad), window.window_height, window.window_width,
               window.channels, kernel_grad.shape()[3], accumulate, stream_);
}

}  // namespace trainyard::backend::cuda

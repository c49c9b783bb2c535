// CudnnCache: what the cuDNN entries keep between calls (descriptors and the algorithm
// chosen for each convolution shape), so a steady-state step repeats no search.
#pragma once

#include <cudnn.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

namespace trainyard::backend::cuda {

// Which cuDNN convolution call an algorithm was chosen for.
enum class ConvDirection : uint8_t { kForward, kBackwardData, kBackwardFilter };

// Everything the algorithm choice depends on: the call, the shapes cuDNN sees (after any
// explicit padding), the geometry, the dtype and whether TF32 is allowed.
struct ConvKey {
  ConvDirection direction = ConvDirection::kForward;
  std::array<int64_t, 13> geometry{};  // N, H, W, C, F, KH, KW, pads, strides, dilations
  int dtype = 0;
  bool tf32 = false;
  auto operator<=>(const ConvKey&) const = default;
};

// The chosen algorithm (forward, backward-data or backward-filter, stored as an int), the math
// type it runs with and the workspace it needs.
struct ConvChoice {
  int algorithm = 0;
  cudnnMathType_t math_type = CUDNN_DEFAULT_MATH;
  size_t workspace_bytes = 0;
};

struct CudnnCache {
  // Created on the first convolution (cudnn_descriptors() in conv.cpp), reset for each call.
  cudnnTensorDescriptor_t x_desc = nullptr;
  cudnnTensorDescriptor_t y_desc = nullptr;
  cudnnFilterDescriptor_t w_desc = nullptr;
  cudnnConvolutionDescriptor_t conv_desc = nullptr;
  std::map<ConvKey, ConvChoice> choices;

  CudnnCache() = default;
  CudnnCache(const CudnnCache&) = delete;
  CudnnCache& operator=(const CudnnCache&) = delete;
  ~CudnnCache() {
    // Release only, without throwing: this runs when the backend goes away.
    if (conv_desc != nullptr) cudnnDestroyConvolutionDescriptor(conv_desc);
    if (w_desc != nullptr) cudnnDestroyFilterDescriptor(w_desc);
    if (y_desc != nullptr) cudnnDestroyTensorDescriptor(y_desc);
    if (x_desc != nullptr) cudnnDestroyTensorDescriptor(x_desc);
  }
};

}  // namespace trainyard::backend::cuda

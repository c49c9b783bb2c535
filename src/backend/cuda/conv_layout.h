// The layout kernels around cuDNN's convolutions (conv_layout.cu): HWIO kernels to and from
// cuDNN's KRSC, zero padding of the input for windows cuDNN cannot pad (asymmetric), and the
// fused bias + activation pass over the convolution's output. float32 only, as the cuDNN
// entries that call them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/kernels.h"
#include "backend/window.h"

namespace trainyard::backend::cuda {

// krsc [F, KH, KW, C] = hwio [KH, KW, C, F].
void hwio_to_krsc(const float* hwio, float* krsc, int64_t kh, int64_t kw, int64_t c, int64_t f,
                  cudaStream_t stream);
// hwio [KH, KW, C, F] (+)= krsc [F, KH, KW, C].
void krsc_to_hwio(const float* krsc, float* hwio, int64_t kh, int64_t kw, int64_t c, int64_t f,
                  bool accumulate, cudaStream_t stream);
// padded [N, H + top + bottom, W + left + right, C] = x [N, H, W, C] surrounded by zeros, with
// the window's padding.
void pad_input(const Window2d& window, const float* x, float* padded, cudaStream_t stream);
// x_grad [N, H, W, C] (+)= padded_grad with the window's padding cropped off.
void crop_input_grad(const Window2d& window, const float* padded_grad, float* x_grad,
                     bool accumulate, cudaStream_t stream);
// y [rows, F] = f(y + bias) in place; bias may be null (no bias). f is not softmax.
void bias_activation_in_place(const Activation& activation, float* y, const float* bias,
                              int64_t rows, int64_t filters, cudaStream_t stream);

}  // namespace trainyard::backend::cuda

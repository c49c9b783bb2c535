// Direct 2-D convolutions, channels_last, without an im2col patch matrix: register tiles of
// output pixels x filters (forward), or of kernel taps x filters (kernel gradient), with the
// taps' inputs broadcast straight from x. Internal to the CPU backend; conv.cpp picks these or
// im2col + GEMM per call.
//
// Dimension letters: N batch, H W input size, C input channels, OH OW output size, F filters,
// KH KW kernel size, K = KH * KW * C.
#pragma once

#include <cstdint>

#include "backend/cpu/conv_output.h"
#include "backend/cpu/scratch.h"
#include "backend/window.h"

namespace trainyard::backend::cpu {

// Whether direct_conv_forward suits this window: kernels larger than 1x1 whose [K, F] weight
// slice a tile streams stays in the core's cache. (A 1x1 convolution is a plain GEMM.)
bool direct_forward_suits(const Window2d& window, int64_t filters);
// Whether direct_conv_backward_input suits it: stride 1, and the same cache bound with the
// roles of C and F swapped.
bool direct_backward_input_suits(const Window2d& window, int64_t filters);
// Whether direct_conv_backward_kernel suits it: kernels larger than 1x1.
bool direct_backward_kernel_suits(const Window2d& window);

// y [N, OH, OW, F] = x [N, H, W, C] convolved with kernel [KH, KW, C, F], stored as `output`
// says (added into y, or with a bias and ReLU applied).
template <typename T>
void direct_conv_forward(const Window2d& window, const T* x, const T* kernel, int64_t filters, T* y,
                         const ConvOutput<T>& output, Scratch& scratch);

// x_grad [N, H, W, C] (+)= the transposed convolution of y_grad [N, OH, OW, F] with kernel,
// computed as a stride-1 forward convolution of y_grad with the flipped kernel.
// REQUIRES: direct_backward_input_suits(window, filters).
template <typename T>
void direct_conv_backward_input(const Window2d& window, const T* y_grad, const T* kernel,
                                int64_t filters, T* x_grad, bool accumulate, Scratch& scratch);

// kernel_grad [KH, KW, C, F] (+)= sum over N, OH, OW of the tap's input times y_grad. The
// pixels are cut into chunks whose count depends only on the shapes, each summed into its own
// partial, and the partials are added in chunk order: the same bits on any thread count.
template <typename T>
void direct_conv_backward_kernel(const Window2d& window, const T* x, const T* y_grad,
                                 int64_t filters, T* kernel_grad, bool accumulate,
                                 Scratch& scratch);

}  // namespace trainyard::backend::cpu

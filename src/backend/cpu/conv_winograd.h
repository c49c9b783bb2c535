// 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) (Lavin and Gray, 2015): each 2x2 block of
// output pixels comes from a 4x4 input patch with 16 products per (input, output) channel pair
// instead of 36, so the matrix products shrink 2.25 times for a few additions. Internal to the
// CPU backend; the direct convolutions hand 3x3 stride-1 windows with enough channels to it.
#pragma once

#include <cstdint>

#include "backend/cpu/conv_output.h"
#include "backend/window.h"

namespace trainyard::backend::cpu {

// Whether winograd_forward suits the window: a 3x3 kernel, stride 1, no dilation, and enough
// channels in and out (16 each) for the transforms to pay for themselves.
bool winograd_suits(const Window2d& window, int64_t filters);

// Elements of T that winograd_forward needs as workspace.
int64_t winograd_workspace_size(const Window2d& window, int64_t weight_stride);

// y [N, OH, OW, filters] = x [N, H, W, C] convolved with weights [3, 3, C, weight_stride]
// (HWIO, each row padded to whole vectors; columns past `filters` are read, not stored), stored
// as `output` says.
// REQUIRES: winograd_suits(window, filters); workspace holds winograd_workspace_size elements.
template <typename T>
void winograd_forward(const Window2d& window, const T* x, const T* weights, int64_t weight_stride,
                      int64_t filters, T* y, const ConvOutput<T>& output, T* workspace);

// Elements of T that winograd_backward_kernel needs as workspace; stride is `filters` rounded up
// to whole vectors of T.
int64_t winograd_backward_kernel_workspace_size(const Window2d& window, int64_t filters,
                                                int64_t stride);

// kernel_grad [3, 3, C, filters] (+)= the kernel gradient of the convolution of x [N, H, W, C]
// given y_grad [N, OH, OW, filters]. The same bits on any thread count.
// REQUIRES: winograd_suits(window, filters); workspace holds
// winograd_backward_kernel_workspace_size elements.
template <typename T>
void winograd_backward_kernel(const Window2d& window, const T* x, const T* y_grad, int64_t filters,
                              T* kernel_grad, bool accumulate, T* workspace);

}  // namespace trainyard::backend::cpu

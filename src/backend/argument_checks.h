// The checks and geometry every backend applies to an entry's arguments before any kernel
// runs, written once so a misuse reads the same on every device.
#pragma once

#include <cstdint>
#include <span>

#include "backend/backend.h"
#include "backend/window.h"

namespace trainyard::backend {

// A slice along `axis` of a row-major tensor seen as [outer, axis * inner] runs.
struct SliceGeometry {
  int64_t outer = 1;       // product of the dimensions before the axis
  int64_t inner = 1;       // product of the dimensions after the axis
  int64_t part_run = 0;    // part.shape[axis] * inner
  int64_t whole_run = 0;   // whole.shape[axis] * inner
  int64_t run_offset = 0;  // offset * inner
};
// Throws ShapeError naming `entry` unless part is whole[..., offset : offset + n, ...] along
// axis (same rank, dtype and other dimensions).
SliceGeometry slice_geometry(const char* entry, const Tensor& part, int64_t axis, int64_t offset,
                             const Tensor& whole);

// Keras's name of the loss ("sparse_categorical_crossentropy"), a string literal.
const char* loss_name(const Loss& loss);
bool is_sparse_loss(const Loss& loss);
// Throws ShapeError naming the loss unless y_true and sample_weight fit y_pred [rows, C].
void check_loss_arguments(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                          const Tensor& sample_weight);

// Throws ShapeError naming the slot unless every slot the step's optimizer uses matches the
// parameters.
void check_optimizer_slots(const OptimizerStep& step, const Tensor& parameters,
                           const Tensor& slot_0, const Tensor& slot_1, const Tensor& slot_2);

// Throws ValueError unless the threshold is > 0, ShapeError for a segment that overlaps the
// previous one or lies outside the buffer.
void check_clip_arguments(const GradientClip& clip, const Tensor& gradients,
                          std::span<const BufferSegment> segments);

// Throws ShapeError naming `entry` unless x [N, H, W, C], kernel [KH, KW, C, F] and
// y [N, OH, OW, F] fit the window and share a dtype.
void check_conv_arguments(const char* entry, const Window2d& window, const Tensor& x,
                          const Tensor& kernel, const Tensor& y);

// Whether a normalization backward is asked for this gradient (non-null and defined).
bool gradient_wanted(const Tensor* gradient);
// Throws ShapeError naming `entry` unless `tensor` is a [C] vector of x's dtype, C being x's
// last axis; an undefined tensor passes when `optional`.
void check_norm_vector(const char* entry, const char* what, const Tensor& tensor, const Tensor& x,
                       bool optional);
// Throws ShapeError naming `entry` unless y_grad and the wanted gradients fit x.
void check_norm_gradients(const char* entry, const Tensor& x, const Tensor& y_grad,
                          const NormGradients& grads);

}  // namespace trainyard::backend

#include "backend/argument_checks.h"

#include <string>

#include "core/error.h"

namespace trainyard::backend {
namespace {

int64_t rows_of(const Tensor& tensor) {
  const int64_t columns = tensor.shape().rank() == 0 ? 1 : tensor.shape()[-1];
  return columns == 0 ? 0 : tensor.num_elements() / columns;
}

void require_same_size(const char* entry, const Tensor& a, const Tensor& b) {
  if (a.num_elements() != b.num_elements() || a.dtype() != b.dtype()) {
    throw ShapeError(std::string(entry) + ": " + a.to_string() + " and " + b.to_string() +
                     " must have the same element count and dtype");
  }
}

void require_slot(const Tensor& slot, const Tensor& parameters, const char* name) {
  if (!slot.defined() || slot.num_elements() != parameters.num_elements() ||
      slot.dtype() != parameters.dtype()) {
    throw ShapeError(std::string("optimizer_update: slot '") + name + "' must match parameters " +
                     parameters.to_string());
  }
}

}  // namespace

SliceGeometry slice_geometry(const char* entry, const Tensor& part, int64_t axis, int64_t offset,
                             const Tensor& whole) {
  const Shape& p = part.shape();
  const Shape& w = whole.shape();
  bool ok = p.rank() == w.rank() && axis >= 0 && axis < p.rank() && part.dtype() == whole.dtype() &&
            offset >= 0 && offset + p[axis] <= w[axis];
  for (int64_t i = 0; ok && i < p.rank(); ++i) ok = i == axis || p[i] == w[i];
  if (!ok) {
    throw ShapeError(std::string(entry) + ": " + part.to_string() + " is not a slice of " +
                     whole.to_string() + " along axis " + std::to_string(axis) + " at offset " +
                     std::to_string(offset));
  }
  SliceGeometry g;
  for (int64_t i = 0; i < axis; ++i) g.outer *= p[i];
  for (int64_t i = axis + 1; i < p.rank(); ++i) g.inner *= p[i];
  g.part_run = p[axis] * g.inner;
  g.whole_run = w[axis] * g.inner;
  g.run_offset = offset * g.inner;
  return g;
}

const char* loss_name(const Loss& loss) {
  switch (loss.kind) {
    case LossKind::kMeanSquaredError:
      return "mean_squared_error";
    case LossKind::kMeanAbsoluteError:
      return "mean_absolute_error";
    case LossKind::kBinaryCrossentropy:
      return "binary_crossentropy";
    case LossKind::kCategoricalCrossentropy:
      return "categorical_crossentropy";
    case LossKind::kSparseCategoricalCrossentropy:
      return "sparse_categorical_crossentropy";
  }
  return "loss";
}

bool is_sparse_loss(const Loss& loss) {
  return loss.kind == LossKind::kSparseCategoricalCrossentropy;
}

void check_loss_arguments(const Loss& loss, const Tensor& y_pred, const Tensor& y_true,
                          const Tensor& sample_weight) {
  const int64_t rows = rows_of(y_pred);
  if (is_sparse_loss(loss)) {
    if (y_true.num_elements() != rows) {
      throw ShapeError(std::string(loss_name(loss)) + ": labels " + y_true.to_string() +
                       " need one class index per row of predictions " + y_pred.to_string());
    }
  } else if (y_true.num_elements() != y_pred.num_elements() || y_true.dtype() != y_pred.dtype()) {
    throw ShapeError(std::string(loss_name(loss)) + ": targets " + y_true.to_string() +
                     " do not match predictions " + y_pred.to_string());
  }
  if (sample_weight.defined() &&
      (sample_weight.num_elements() != rows || sample_weight.dtype() != y_pred.dtype())) {
    throw ShapeError(std::string(loss_name(loss)) + ": sample_weight " + sample_weight.to_string() +
                     " needs one weight per row of " + y_pred.to_string());
  }
}

void check_optimizer_slots(const OptimizerStep& step, const Tensor& parameters,
                           const Tensor& slot_0, const Tensor& slot_1, const Tensor& slot_2) {
  switch (step.kind) {
    case OptimizerKind::kSgd:
      if (step.momentum != 0.0) require_slot(slot_0, parameters, "momentum");
      break;
    case OptimizerKind::kAdam:
    case OptimizerKind::kAdamW:
      require_slot(slot_0, parameters, "momentum");
      require_slot(slot_1, parameters, "velocity");
      if (step.amsgrad) require_slot(slot_2, parameters, "velocity_hat");
      break;
    case OptimizerKind::kRmsprop:
      require_slot(slot_0, parameters, "velocity");
      if (step.momentum > 0.0) require_slot(slot_1, parameters, "momentum");
      if (step.centered) require_slot(slot_2, parameters, "average_gradient");
      break;
  }
}

void check_clip_arguments(const GradientClip& clip, const Tensor& gradients,
                          std::span<const BufferSegment> segments) {
  if (!(clip.threshold > 0)) {
    throw ValueError("clip_gradients: the threshold must be > 0, got " +
                     std::to_string(clip.threshold));
  }
  int64_t previous_end = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const BufferSegment& segment = segments[i];
    if (segment.offset < previous_end || segment.size < 0 ||
        segment.offset + segment.size > gradients.num_elements()) {
      throw ShapeError(
          "clip_gradients: segment " + std::to_string(i) + " [" + std::to_string(segment.offset) +
          ", " + std::to_string(segment.offset + segment.size) +
          ") overlaps the previous one or lies outside gradients " + gradients.to_string());
    }
    previous_end = segment.offset + segment.size;
  }
}

void check_conv_arguments(const char* entry, const Window2d& w, const Tensor& x,
                          const Tensor& kernel, const Tensor& y) {
  bool ok = x.shape() == Shape{w.batch, w.in_height, w.in_width, w.channels} &&
            kernel.shape().rank() == 4 && kernel.shape()[0] == w.window_height &&
            kernel.shape()[1] == w.window_width && kernel.shape()[2] == w.channels &&
            y.shape() == Shape{w.batch, w.out_height, w.out_width, kernel.shape()[3]} &&
            x.dtype() == kernel.dtype() && x.dtype() == y.dtype();
  if (!ok) {
    throw ShapeError(std::string(entry) + ": input " + x.to_string() + ", kernel " +
                     kernel.to_string() + " and output " + y.to_string() +
                     " do not match the window [" + std::to_string(w.window_height) + "x" +
                     std::to_string(w.window_width) + "] over " + std::to_string(w.batch) + "x" +
                     std::to_string(w.in_height) + "x" + std::to_string(w.in_width) + "x" +
                     std::to_string(w.channels));
  }
}

bool gradient_wanted(const Tensor* gradient) {
  return gradient != nullptr && gradient->defined();
}

void check_norm_vector(const char* entry, const char* what, const Tensor& tensor, const Tensor& x,
                       bool optional) {
  if (!tensor.defined()) {
    if (optional) return;
    throw ShapeError(std::string(entry) + ": " + what + " is required");
  }
  const int64_t columns = x.shape().rank() == 0 ? 1 : x.shape()[-1];
  if (tensor.num_elements() != columns || tensor.dtype() != x.dtype()) {
    throw ShapeError(std::string(entry) + ": " + what + " " + tensor.to_string() +
                     " does not match the last axis of " + x.to_string());
  }
}

void check_norm_gradients(const char* entry, const Tensor& x, const Tensor& y_grad,
                          const NormGradients& grads) {
  require_same_size(entry, x, y_grad);
  if (gradient_wanted(grads.x_grad)) require_same_size(entry, x, *grads.x_grad);
  if (gradient_wanted(grads.gamma_grad)) {
    check_norm_vector(entry, "gamma gradient", *grads.gamma_grad, x, false);
  }
  if (gradient_wanted(grads.beta_grad)) {
    check_norm_vector(entry, "beta gradient", *grads.beta_grad, x, false);
  }
}

}  // namespace trainyard::backend

#include "backend/window.h"

#include <algorithm>

#include "core/error.h"

namespace trainyard::backend {
namespace {

struct Axis {
  int64_t out;
  int64_t pad_before;
  int64_t pad_after;
};

// One spatial axis: Keras's output size and TensorFlow's padding split.
Axis make_axis(const std::string& what, const char* axis_name, int64_t input, int64_t window,
               int64_t stride, int64_t dilation, Padding padding) {
  int64_t effective = (window - 1) * dilation + 1;
  if (padding == Padding::kValid) {
    int64_t out = input >= effective ? (input - effective) / stride + 1 : 0;
    if (out <= 0) {
      throw ShapeError(what + ": the window of " + std::to_string(effective) + " (kernel " +
                       std::to_string(window) + ", dilation " + std::to_string(dilation) +
                       ") does not fit the input " + axis_name + " of " + std::to_string(input) +
                       " with padding \"valid\"; the output " + axis_name + " would be 0");
    }
    return {out, 0, 0};
  }
  if (padding == Padding::kCausal) {
    int64_t total = effective - 1;
    return {(input + total - effective) / stride + 1, total, 0};
  }
  int64_t out = (input + stride - 1) / stride;
  int64_t total = std::max<int64_t>(0, (out - 1) * stride + effective - input);
  return {out, total / 2, total - total / 2};
}

}  // namespace

Padding parse_padding(std::string_view padding) {
  if (padding == "valid") return Padding::kValid;
  if (padding == "same") return Padding::kSame;
  if (padding == "causal") return Padding::kCausal;
  throw ValueError("padding must be \"valid\", \"same\" or \"causal\", got \"" +
                   std::string(padding) + "\"");
}

std::string_view padding_name(Padding padding) {
  switch (padding) {
    case Padding::kValid:
      return "valid";
    case Padding::kSame:
      return "same";
    case Padding::kCausal:
      return "causal";
  }
  return "valid";
}

Window2d make_window2d(const std::string& what, int64_t batch, int64_t height, int64_t width,
                       int64_t channels, const WindowOptions& options) {
  for (int64_t value : {options.window_height, options.window_width, options.stride_height,
                        options.stride_width, options.dilation_height, options.dilation_width}) {
    if (value < 1) {
      throw ValueError(what + ": window sizes, strides and dilation rates must be >= 1");
    }
  }
  bool strided = options.stride_height > 1 || options.stride_width > 1;
  bool dilated = options.dilation_height > 1 || options.dilation_width > 1;
  if (strided && dilated) {
    throw ValueError(what + ": strides > 1 cannot be combined with dilation_rate > 1");
  }
  Window2d window;
  window.batch = batch;
  window.in_height = height;
  window.in_width = width;
  window.channels = channels;
  window.window_height = options.window_height;
  window.window_width = options.window_width;
  window.stride_height = options.stride_height;
  window.stride_width = options.stride_width;
  window.dilation_height = options.dilation_height;
  window.dilation_width = options.dilation_width;
  // Causal padding only pads the width (the time axis of Conv1D).
  Padding height_padding = options.padding == Padding::kCausal ? Padding::kValid : options.padding;
  Axis rows = make_axis(what, "height", height, options.window_height, options.stride_height,
                        options.dilation_height, height_padding);
  Axis columns = make_axis(what, "width", width, options.window_width, options.stride_width,
                           options.dilation_width, options.padding);
  window.out_height = rows.out;
  window.pad_top = rows.pad_before;
  window.pad_bottom = rows.pad_after;
  window.out_width = columns.out;
  window.pad_left = columns.pad_before;
  window.pad_right = columns.pad_after;
  return window;
}

}  // namespace trainyard::backend

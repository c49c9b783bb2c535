// The geometry of a 2-D sliding window (a convolution kernel or a pooling window) over
// channels_last inputs [N, H, W, C], with Keras's output sizes and padding split
// (keras-semantics.md sections 1.3 and 1.4). Conv1D and 1-D pooling use H = 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace trainyard::backend {

// "valid": no padding; "same": output = ceil(input / stride), the extra padded pixel goes
// bottom/right; "causal" (Conv1D only): all padding before, along the width.
enum class Padding { kValid, kSame, kCausal };

// Throws ValueError naming the value unless it is "valid", "same" or "causal".
Padding parse_padding(std::string_view padding);
std::string_view padding_name(Padding padding);

struct Window2d {
  int64_t batch = 0;
  int64_t in_height = 0, in_width = 0, channels = 0;
  int64_t window_height = 1, window_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  int64_t dilation_height = 1, dilation_width = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t out_height = 0, out_width = 0;

  // Positions the window covers in one input plane (window size with dilation).
  int64_t effective_height() const { return (window_height - 1) * dilation_height + 1; }
  int64_t effective_width() const { return (window_width - 1) * dilation_width + 1; }
  bool operator==(const Window2d&) const = default;
};

struct WindowOptions {
  int64_t window_height = 1, window_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  int64_t dilation_height = 1, dilation_width = 1;
  Padding padding = Padding::kValid;
};

// The geometry for inputs [batch, height, width, channels]. Throws ShapeError when a valid
// window does not fit the input ("output height would be 0"), ValueError for non-positive
// sizes or strides, or stride > 1 combined with dilation > 1 (which Keras 3 rejects).
// `what` names the layer in errors.
Window2d make_window2d(const std::string& what, int64_t batch, int64_t height, int64_t width,
                       int64_t channels, const WindowOptions& options);

}  // namespace trainyard::backend

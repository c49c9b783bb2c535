// Keras 3's gradient clipping (BaseOptimizer._clip_gradients, keras-semantics.md section
// 3.1) over a flat buffer of several variables. This is Backend's default clip_gradients,
// the one the CPU backend runs: it touches only host memory and needs no scratch beyond the
// stack, so a training step stays allocation-free.
#include <algorithm>
#include <cmath>
#include <string>

#include "backend/argument_checks.h"
#include "backend/backend.h"
#include "backend/cpu/cpu_common.h"
#include "backend/cpu/reductions.h"

namespace trainyard::backend {
namespace {

// Independent accumulators, so the loop vectorises while the order of additions stays
// fixed by the code (and so the same on every run and thread count).
constexpr int64_t kLanes = 8;

// The sum of g[i]^2 over [0, count), in float64 over chunks fixed by count alone.
template <typename T>
double sum_of_squares(const T* g, int64_t count) {
  double partial[cpu::kMaxRowChunks];
  double sum = 0;
  cpu::reduce_rows(count, 1, 1, partial, &sum, [&](int64_t begin, int64_t end, double* slot) {
    double lanes[kLanes] = {};
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (int64_t k = 0; k < kLanes; ++k) {
        double value = static_cast<double>(g[i + k]);
        lanes[k] += value * value;
      }
    }
    double total = 0;
    for (; i < end; ++i) total += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    for (double lane : lanes) total += lane;
    slot[0] += total;
  });
  return sum;
}

// Keras's L2 norm in the gradients' dtype: the float64 sum rounded once, then sqrt.
template <typename T>
T l2_norm(double sum_of_squares) {
  return std::sqrt(static_cast<T>(sum_of_squares));
}

// g = g * c / max(norm, c): Keras's _clip_by_norm, written as it is (multiply, then
// divide) so a gradient under the threshold gets exactly Keras's g * c / c.
template <typename T>
void clip_segment_by_norm(T* g, int64_t count, T c) {
  T norm = l2_norm<T>(sum_of_squares(g, count));
  // std::max returns its first argument for a NaN norm, which keeps the NaN as Keras does.
  T denominator = std::max(norm, c);
  cpu::for_range(count, cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) g[i] = g[i] * c / denominator;
  });
}

template <typename T>
void scale_segment(T* g, int64_t count, T scale) {
  cpu::for_range(count, cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) g[i] *= scale;
  });
}

template <typename T>
void clip_segment_by_value(T* g, int64_t count, T c) {
  cpu::for_range(count, cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
    // Comparisons with NaN are false, so a NaN element passes through unchanged.
    for (int64_t i = begin; i < end; ++i) g[i] = g[i] < -c ? -c : (g[i] > c ? c : g[i]);
  });
}

}  // namespace

void Backend::clip_gradients(const GradientClip& clip, const Tensor& gradients,
                             std::span<const BufferSegment> segments) {
  check_clip_arguments(clip, gradients, segments);
  cpu::dispatch_float(gradients.dtype(), "clip_gradients", [&](auto zero) {
    using T = decltype(zero);
    T* g = gradients.data<T>();
    T c = static_cast<T>(clip.threshold);
    switch (clip.mode) {
      case ClipMode::kNorm:
        for (const BufferSegment& segment : segments) {
          clip_segment_by_norm(g + segment.offset, segment.size, c);
        }
        break;
      case ClipMode::kGlobalNorm: {
        // Keras's clip_by_global_norm: the squared norms of the variables summed in order.
        double total = 0;
        for (const BufferSegment& segment : segments) {
          total += sum_of_squares(g + segment.offset, segment.size);
        }
        T norm = l2_norm<T>(total);
        T inverse_threshold = static_cast<T>(1.0 / clip.threshold);
        // (norm - norm) is 0 for a finite norm and NaN otherwise: Keras's way of turning an
        // overflowed or NaN gradient into NaN everywhere instead of silently zeroing it.
        T scale = c * std::min(T(1) / norm, inverse_threshold) + (norm - norm);
        for (const BufferSegment& segment : segments) {
          scale_segment(g + segment.offset, segment.size, scale);
        }
        break;
      }
      case ClipMode::kValue:
        for (const BufferSegment& segment : segments) {
          clip_segment_by_value(g + segment.offset, segment.size, c);
        }
        break;
    }
  });
}

}  // namespace trainyard::backend

// Keras 3's gradient clipping over a flat buffer of several variables, on the GPU. Segments are
// cut into fixed-size chunks (one block each): sums of squares per chunk in float64, then per
// segment in chunk order, so the norms are the same bits on every run; a last pass rescales or
// clamps each chunk. Elements outside the segments are never touched.
#include <cstring>
#include <string>
#include <vector>

#include "backend/argument_checks.h"
#include "backend/cuda/block_reduce.cuh"
#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {
namespace {

// Elements per chunk: big enough to keep each thread busy, small enough for many blocks.
constexpr int64_t kChunkSize = 8192;

struct Chunk {
  int64_t offset;   // into the gradients
  int64_t size;     // elements, at most kChunkSize
  int64_t segment;  // the segment it belongs to
};

struct SegmentChunks {
  int64_t first;  // index of its first chunk
  int64_t count;
};

// The chunk and segment tables, laid out in one buffer for one host-to-device copy.
struct ClipTables {
  std::vector<Chunk> chunks;
  std::vector<SegmentChunks> segments;
};

ClipTables make_tables(std::span<const BufferSegment> segments) {
  ClipTables tables;
  for (size_t s = 0; s < segments.size(); ++s) {
    const int64_t first = static_cast<int64_t>(tables.chunks.size());
    for (int64_t begin = 0; begin < segments[s].size; begin += kChunkSize) {
      tables.chunks.push_back({segments[s].offset + begin,
                               std::min(kChunkSize, segments[s].size - begin),
                               static_cast<int64_t>(s)});
    }
    tables.segments.push_back({first, static_cast<int64_t>(tables.chunks.size()) - first});
  }
  return tables;
}

unsigned int chunk_blocks(int64_t chunks) {
  return static_cast<unsigned int>(std::clamp<int64_t>(chunks, 1, 65535));
}

template <typename T>
__global__ void chunk_sum_of_squares_kernel(const T* g, const Chunk* chunks, int64_t chunk_count,
                                            double* partials) {
  for (int64_t b = blockIdx.x; b < chunk_count; b += gridDim.x) {
    const Chunk chunk = chunks[b];
    double local = 0;
    for (int64_t i = threadIdx.x; i < chunk.size; i += blockDim.x) {
      const double value = static_cast<double>(g[chunk.offset + i]);
      local += value * value;
    }
    const double total = block_sum(local);
    if (threadIdx.x == 0) partials[b] = total;
  }
}

// One thread per segment: its chunks' partial sums added in chunk order.
__global__ void segment_sum_kernel(const double* partials, const SegmentChunks* segments,
                                   int64_t segment_count, double* segment_sums) {
  for (int64_t s = global_thread_index(); s < segment_count; s += grid_stride()) {
    double total = 0;
    for (int64_t k = 0; k < segments[s].count; ++k) total += partials[segments[s].first + k];
    segment_sums[s] = total;
  }
}

// One thread: Keras's clip_by_global_norm factor c * min(1 / G, 1 / c), plus (G - G), which is
// NaN for an infinite or NaN G and so turns every gradient into NaN, as Keras does.
template <typename T>
__global__ void global_scale_kernel(const double* segment_sums, int64_t segment_count, T c,
                                    T inverse_threshold, double* scale) {
  double total = 0;
  for (int64_t s = 0; s < segment_count; ++s) total += segment_sums[s];
  const T norm = device_sqrt(static_cast<T>(total));
  const T inverse_norm = T(1) / norm;
  const T smaller = inverse_threshold < inverse_norm ? inverse_threshold : inverse_norm;
  scale[0] = static_cast<double>(c * smaller + (norm - norm));
}

template <typename T>
__global__ void clip_chunks_kernel(ClipMode mode, T* g, const Chunk* chunks, int64_t chunk_count,
                                   const double* segment_sums, const double* global_scale, T c) {
  for (int64_t b = blockIdx.x; b < chunk_count; b += gridDim.x) {
    const Chunk chunk = chunks[b];
    T* x = g + chunk.offset;
    if (mode == ClipMode::kValue) {
      // Comparisons with NaN are false, so a NaN element passes through unchanged.
      for (int64_t i = threadIdx.x; i < chunk.size; i += blockDim.x) {
        x[i] = x[i] < -c ? -c : (x[i] > c ? c : x[i]);
      }
    } else if (mode == ClipMode::kGlobalNorm) {
      const T scale = static_cast<T>(global_scale[0]);
      for (int64_t i = threadIdx.x; i < chunk.size; i += blockDim.x) x[i] *= scale;
    } else {
      // g * c / max(norm, c), multiply then divide as Keras; a NaN norm stays NaN, as the
      // CPU's std::max(norm, c) keeps it.
      const T norm = device_sqrt(static_cast<T>(segment_sums[chunk.segment]));
      const T denominator = norm < c ? c : norm;
      for (int64_t i = threadIdx.x; i < chunk.size; i += blockDim.x) x[i] = x[i] * c / denominator;
    }
  }
}

}  // namespace

void CudaBackend::clip_gradients(const GradientClip& clip, const Tensor& gradients,
                                 std::span<const BufferSegment> segments) {
  check_clip_arguments(clip, gradients, segments);
  require_here("clip_gradients", "gradients", gradients);
  refuse_in_capture("clip_gradients", "it copies its segment tables from host memory");
  dispatch_float(gradients.dtype(), "clip_gradients", [&](auto zero) {
    using T = decltype(zero);
    const ClipTables tables = make_tables(segments);
    const int64_t chunk_count = static_cast<int64_t>(tables.chunks.size());
    const int64_t segment_count = static_cast<int64_t>(tables.segments.size());
    if (chunk_count == 0) return;  // no element to clip
    activate();

    // Both tables in one copy; pageable memory, so the copy has read them when it returns.
    const size_t chunk_bytes = sizeof(Chunk) * tables.chunks.size();
    const size_t segment_bytes = sizeof(SegmentChunks) * tables.segments.size();
    std::vector<unsigned char> host_tables(chunk_bytes + segment_bytes);
    std::memcpy(host_tables.data(), tables.chunks.data(), chunk_bytes);
    std::memcpy(host_tables.data() + chunk_bytes, tables.segments.data(), segment_bytes);
    auto* device_tables =
        static_cast<unsigned char*>(scratch(ScratchSlot::kWorkspace, host_tables.size()));
    TY_CUDA_CHECK(cudaMemcpyAsync(device_tables, host_tables.data(), host_tables.size(),
                                  cudaMemcpyHostToDevice, stream_));
    const auto* chunks = reinterpret_cast<const Chunk*>(device_tables);
    const auto* segment_chunks =
        reinterpret_cast<const SegmentChunks*>(device_tables + chunk_bytes);

    // Doubles: per-chunk partial sums, per-segment sums, the global scale.
    auto* sums = static_cast<double*>(
        scratch(ScratchSlot::kReduction,
                sizeof(double) * static_cast<size_t>(chunk_count + segment_count + 1)));
    double* partials = sums;
    double* segment_sums = sums + chunk_count;
    double* global_scale = segment_sums + segment_count;

    T* g = static_cast<T*>(gradients.raw_data());
    const T c = static_cast<T>(clip.threshold);
    if (clip.mode != ClipMode::kValue) {
      chunk_sum_of_squares_kernel<T><<<chunk_blocks(chunk_count), kThreadsPerBlock, 0, stream_>>>(
          g, chunks, chunk_count, partials);
      TY_CUDA_CHECK_LAUNCH("chunk_sum_of_squares_kernel");
      segment_sum_kernel<<<blocks_for(segment_count), kThreadsPerBlock, 0, stream_>>>(
          partials, segment_chunks, segment_count, segment_sums);
      TY_CUDA_CHECK_LAUNCH("segment_sum_kernel");
    }
    if (clip.mode == ClipMode::kGlobalNorm) {
      global_scale_kernel<T><<<1, 1, 0, stream_>>>(
          segment_sums, segment_count, c, static_cast<T>(1.0 / clip.threshold), global_scale);
      TY_CUDA_CHECK_LAUNCH("global_scale_kernel");
    }
    clip_chunks_kernel<T><<<chunk_blocks(chunk_count), kThreadsPerBlock, 0, stream_>>>(
        clip.mode, g, chunks, chunk_count, segment_sums, global_scale, c);
    TY_CUDA_CHECK_LAUNCH("clip_chunks_kernel");
  });
}

}  // namespace trainyard::backend::cuda

// Reductions across the threads of one block, in a fixed tree order so results are the same
// bits on every run. Every thread of the block must call them (they synchronise), with
// blockDim.x == kThreadsPerBlock; each returns the result to all threads.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/cuda_common.cuh"

namespace trainyard::backend::cuda {

__device__ inline double block_sum(double value) {
  __shared__ double buffer[kThreadsPerBlock];
  buffer[threadIdx.x] = value;
  __syncthreads();
  for (unsigned int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) buffer[threadIdx.x] += buffer[threadIdx.x + half];
    __syncthreads();
  }
  const double total = buffer[0];
  __syncthreads();  // all have read buffer[0] before a later call overwrites it
  return total;
}

// The largest value; a NaN in the block may or may not win, as with a serial max.
template <typename T>
__device__ T block_max(T value) {
  __shared__ T buffer[kThreadsPerBlock];
  buffer[threadIdx.x] = value;
  __syncthreads();
  for (unsigned int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half && buffer[threadIdx.x + half] > buffer[threadIdx.x]) {
      buffer[threadIdx.x] = buffer[threadIdx.x + half];
    }
    __syncthreads();
  }
  const T result = buffer[0];
  __syncthreads();
  return result;
}

// The index of the first maximum of row[0, columns), as a serial argmax that keeps the first
// of equal values. Threads scan strided columns in increasing order, so each keeps its own
// first maximum; the tree then prefers the larger value, and the smaller index among equals.
template <typename T>
__device__ int64_t block_argmax(const T* row, int64_t columns) {
  __shared__ T values[kThreadsPerBlock];
  __shared__ int64_t indices[kThreadsPerBlock];
  T best = row[0];
  int64_t best_index = 0;
  for (int64_t j = threadIdx.x; j < columns; j += blockDim.x) {
    if (row[j] > best) {
      best = row[j];
      best_index = j;
    }
  }
  values[threadIdx.x] = best;
  indices[threadIdx.x] = best_index;
  __syncthreads();
  for (unsigned int half = kThreadsPerBlock / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      const T other = values[threadIdx.x + half];
      const int64_t other_index = indices[threadIdx.x + half];
      if (other > values[threadIdx.x] ||
          (other == values[threadIdx.x] && other_index < indices[threadIdx.x])) {
        values[threadIdx.x] = other;
        indices[threadIdx.x] = other_index;
      }
    }
    __syncthreads();
  }
  const int64_t result = indices[0];
  __syncthreads();
  return result;
}

// Math in the argument's precision (float stays float, as on the CPU).
__device__ inline float device_exp(float x) {
  return expf(x);
}
__device__ inline double device_exp(double x) {
  return exp(x);
}
__device__ inline float device_log(float x) {
  return logf(x);
}
__device__ inline double device_log(double x) {
  return log(x);
}
__device__ inline float device_log1p(float x) {
  return log1pf(x);
}
__device__ inline double device_log1p(double x) {
  return log1p(x);
}
__device__ inline float device_sqrt(float x) {
  return sqrtf(x);
}
__device__ inline double device_sqrt(double x) {
  return sqrt(x);
}
__device__ inline float device_abs(float x) {
  return fabsf(x);
}
__device__ inline double device_abs(double x) {
  return fabs(x);
}

}  // namespace trainyard::backend::cuda

#include "backend/cpu/cpu_backend.h"

#include <cblas.h>

#include <cstring>

#include "backend/cpu/cpu_common.h"
#include "core/bfloat16.h"

namespace trainyard::backend {
namespace cpu {

void require_same_size(const char* entry, const Tensor& a, const Tensor& b) {
  if (a.num_elements() != b.num_elements() || a.dtype() != b.dtype()) {
    throw ShapeError(std::string(entry) + ": " + a.to_string() + " and " + b.to_string() +
                     " must have the same element count and dtype");
  }
}

void require_dtype(const char* entry, const Tensor& tensor, DType dtype) {
  if (tensor.dtype() != dtype) {
    throw ShapeError(std::string(entry) + ": expected " + std::string(dtype_name(dtype)) +
                     ", got " + tensor.to_string());
  }
}

}  // namespace cpu

CpuBackend::CpuBackend() {
  // trainyard splits matrix products across its own pool; OpenBLAS threads on top of
  // that would oversubscribe the cores.
  openblas_set_num_threads(1);
}

void CpuBackend::fill(const Tensor& out, double value) {
  out.fill(value);
}

void CpuBackend::copy(const Tensor& source, const Tensor& out, bool accumulate) {
  cpu::require_same_size("copy", source, out);
  if (!accumulate) {
    // Raw bytes: viewing the source in out's shape would build a Shape on the heap, and
    // copies run inside training steps that must not allocate.
    if (source.raw_data() != out.raw_data()) {
      std::memmove(out.raw_data(), source.raw_data(), out.nbytes());
    }
    return;
  }
  if (out.dtype() == DType::kBFloat16) {
    const auto* in = static_cast<const BFloat16*>(source.raw_data());
    auto* result = static_cast<BFloat16*>(out.raw_data());
    cpu::for_range(out.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        result[i] = BFloat16::from_float(BFloat16::to_float(result[i]) + BFloat16::to_float(in[i]));
      }
    });
    return;
  }
  cpu::dispatch_float(out.dtype(), "copy", [&](auto zero) {
    using T = decltype(zero);
    const T* in = source.data<T>();
    T* result = out.data<T>();
    cpu::for_range(out.num_elements(), cpu::kParallelGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) result[i] += in[i];
    });
  });
}

void CpuBackend::mean_update(const Tensor& value, double weight, const Tensor& state) {
  cpu::require_dtype("mean_update", state, DType::kFloat64);
  double* totals = state.data<double>();
  totals[0] += value.item(0) * weight;
  totals[1] += weight;
}

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

}  // namespace trainyard::backend

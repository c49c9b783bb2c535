#include "backend/cpu/float32_staging.h"

#include "backend/cpu/cpu_common.h"
#include "core/bfloat16.h"

namespace trainyard::backend::cpu {

void Float32Staging::reserve(int64_t elements) {
  if (!buffer_.defined() || buffer_.num_elements() < elements) {
    buffer_ = Tensor::zeros(Shape{elements}, DType::kFloat32);
  }
  used_ = 0;
}

Tensor Float32Staging::take(const char* entry, const Tensor& tensor, bool widen) {
  if (tensor.dtype() != DType::kBFloat16) {
    throw ShapeError(std::string(entry) + ": expected every float tensor in bfloat16, got " +
                     tensor.to_string());
  }
  const int64_t count = tensor.num_elements();
  TY_CHECK(buffer_.defined() && used_ + count <= buffer_.num_elements(),
           "Float32Staging::take beyond the reserved elements");
  Tensor view =
      buffer_.view(static_cast<size_t>(used_) * sizeof(float), tensor.shape(), DType::kFloat32);
  used_ += count;
  if (widen) widen_bfloat16(tensor, view);
  return view;
}

void widen_bfloat16(const Tensor& source, const Tensor& out) {
  TY_CHECK(source.num_elements() == out.num_elements(), "widen_bfloat16: element counts differ");
  const auto* in = static_cast<const BFloat16*>(source.raw_data());
  float* result = out.data<float>();
  for_range(out.num_elements(), kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) result[i] = BFloat16::to_float(in[i]);
  });
}

void narrow_to_bfloat16(const Tensor& source, const Tensor& out) {
  TY_CHECK(source.num_elements() == out.num_elements(),
           "narrow_to_bfloat16: element counts differ");
  const float* in = source.data<float>();
  auto* result = static_cast<BFloat16*>(out.raw_data());
  for_range(out.num_elements(), kParallelGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) result[i] = BFloat16::from_float(in[i]);
  });
}

}  // namespace trainyard::backend::cpu

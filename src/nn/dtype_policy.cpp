#include "nn/dtype_policy.h"

#include <mutex>

#include "core/error.h"

namespace trainyard::nn {
namespace {

std::mutex& global_mutex() {
  static std::mutex mutex;
  return mutex;
}

DTypePolicy& global_slot() {
  static DTypePolicy policy;
  return policy;
}

}  // namespace

DTypePolicy::DTypePolicy() : DTypePolicy("float32", DType::kFloat32, DType::kFloat32) {}

DTypePolicy::DTypePolicy(std::string name, DType variable_dtype, DType compute_dtype)
    : name_(std::move(name)), variable_dtype_(variable_dtype), compute_dtype_(compute_dtype) {}

DTypePolicy DTypePolicy::parse(std::string_view name) {
  if (name == "mixed_bfloat16") return {"mixed_bfloat16", DType::kFloat32, DType::kBFloat16};
  if (name == "mixed_float16") return {"mixed_float16", DType::kFloat32, DType::kFloat16};
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kBFloat16, DType::kFloat16}) {
    if (name == dtype_name(dtype)) return from_dtype(dtype);
  }
  throw ValueError("unknown dtype policy '" + std::string(name) +
                   "'; expected float32, float64, bfloat16, float16, mixed_bfloat16 or "
                   "mixed_float16");
}

DTypePolicy DTypePolicy::from_dtype(DType dtype) {
  if (!is_floating(dtype)) {
    throw ValueError("a dtype policy needs a floating-point dtype, got " +
                     std::string(dtype_name(dtype)));
  }
  return {std::string(dtype_name(dtype)), dtype, dtype};
}

DTypePolicy global_policy() {
  std::lock_guard lock(global_mutex());
  return global_slot();
}

void set_global_policy(const DTypePolicy& policy) {
  std::lock_guard lock(global_mutex());
  global_slot() = policy;
}

void set_global_policy(std::string_view name) {
  set_global_policy(DTypePolicy::parse(name));
}

}  // namespace trainyard::nn

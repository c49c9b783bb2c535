// DTypePolicy: Keras's dtype policy, the dtype a layer stores its variables in and the dtype
// it computes in. "mixed_bfloat16" keeps float32 variables (the optimizer's master weights)
// and computes in bfloat16; "float32" and "float64" use one dtype for both. Layers read
// the global policy when they are constructed, as Keras layers do.
// Thread safety: the global policy may be read and set from any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/dtype.h"

namespace trainyard::nn {

class DTypePolicy {
 public:
  // float32.
  DTypePolicy();
  // Keras's names: "float32", "float64", "bfloat16", "float16", "mixed_bfloat16",
  // "mixed_float16". Throws ValueError naming any other. Parsing does not mean a layer can
  // run the policy: Layer::build says which it supports.
  static DTypePolicy parse(std::string_view name);
  // The one-dtype policy named after a floating `dtype`.
  static DTypePolicy from_dtype(DType dtype);

  const std::string& name() const { return name_; }
  DType variable_dtype() const { return variable_dtype_; }
  DType compute_dtype() const { return compute_dtype_; }
  // Variables and computation in different dtypes.
  bool is_mixed() const { return variable_dtype_ != compute_dtype_; }

  bool operator==(const DTypePolicy&) const = default;

 private:
  DTypePolicy(std::string name, DType variable_dtype, DType compute_dtype);

  std::string name_;
  DType variable_dtype_;
  DType compute_dtype_;
};

// keras.mixed_precision.global_policy / set_global_policy: the policy of layers constructed
// afterwards without one of their own. float32 until set.
DTypePolicy global_policy();
void set_global_policy(const DTypePolicy& policy);
void set_global_policy(std::string_view name);

}  // namespace trainyard::nn

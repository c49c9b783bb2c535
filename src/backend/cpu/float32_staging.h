// Float32Staging: how the CPU backend runs bfloat16 entries. Their bfloat16 tensors are
// widened into float32 views of one reusable buffer, the float32 kernel runs on those, and
// the result is narrowed back (round to nearest even). The buffer grows while a plan warms
// up and is then reused, so steady-state steps stay allocation-free.
// Not thread-safe: one per backend.
#pragma once

#include "core/tensor.h"

namespace trainyard::backend::cpu {

class Float32Staging {
 public:
  // Starts a new entry needing `elements` float32 values in all; views taken before are
  // invalidated.
  void reserve(int64_t elements);
  // The next tensor.num_elements() values as a float32 view of tensor's shape, holding
  // tensor's values when `widen`. tensor must be bfloat16 (ShapeError naming `entry`).
  Tensor take(const char* entry, const Tensor& tensor, bool widen);

 private:
  Tensor buffer_;
  int64_t used_ = 0;
};

// float32 <-> bfloat16 element conversion between tensors of equal element count.
void widen_bfloat16(const Tensor& source, const Tensor& out);
void narrow_to_bfloat16(const Tensor& source, const Tensor& out);

}  // namespace trainyard::backend::cpu

// How a CPU convolution kernel stores each output value v it computes, applied while v is still
// in a register: y = v, y += v, or y = f(v + bias) with f the identity or ReLU. Internal to the
// CPU backend.
#pragma once

namespace trainyard::backend::cpu {

template <typename T>
struct ConvOutput {
  bool accumulate = false;  // y += v; REQUIRES: bias null and relu false
  const T* bias = nullptr;  // [filters]: y = v + bias, or null for no bias
  bool relu = false;        // then y = max(y, 0), NaN becoming 0 as activation_forward's ReLU
};

}  // namespace trainyard::backend::cpu

// BFloat16: the host's view of a bfloat16 element (the top 16 bits of a float32). Narrowing
// rounds to nearest, ties to even; NaN becomes the canonical NaN and values past the largest
// bfloat16 round to infinity, bit for bit as the GPU's conversions do.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace trainyard {

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  // Rounds `value` once, straight from float64 (no double rounding through float32).
  explicit BFloat16(double value) : bits(from_double_bits(value)) {}
  // To any arithmetic type, through the exact float32 value.
  template <typename T>
  requires std::is_arithmetic_v<T>
  explicit operator T() const { return static_cast<T>(to_float(*this)); }

  static BFloat16 from_bits(uint16_t bits) {
    BFloat16 result;
    result.bits = bits;
    return result;
  }

  static BFloat16 from_float(float value) {
    uint32_t word;
    std::memcpy(&word, &value, sizeof(word));
    // Every NaN becomes the canonical 0x7FFF, as the GPU's cvt.rn.bf16 writes it.
    if (std::isnan(value)) return from_bits(0x7FFFu);
    // Adding 0x7FFF plus the lowest kept bit rounds half to even; a carry into the
    // exponent is the correct result, up to infinity.
    word += 0x7FFFu + ((word >> 16) & 1u);
    return from_bits(static_cast<uint16_t>(word >> 16));
  }

  static float to_float(BFloat16 value) {
    uint32_t word = static_cast<uint32_t>(value.bits) << 16;
    float result;
    std::memcpy(&result, &word, sizeof(result));
    return result;
  }

 private:
  static uint16_t from_double_bits(double value) {
    if (std::isnan(value) || std::isinf(value) || value == 0.0) {
      return from_float(static_cast<float>(value)).bits;
    }
    // bfloat16 keeps 8 significant bits; below 2^-126 its spacing stays 2^-133.
    int exponent = 0;
    std::frexp(value, &exponent);  // value = m * 2^exponent, 0.5 <= |m| < 1
    const int quantum = exponent - 8 > -133 ? exponent - 8 : -133;
    const double rounded = std::ldexp(std::nearbyint(std::ldexp(value, -quantum)), quantum);
    if (std::fabs(rounded) > static_cast<double>(std::numeric_limits<float>::max())) {
      return rounded > 0 ? 0x7F80u : 0xFF80u;
    }
    // rounded has at most 8 significant bits, so float32 holds it exactly.
    return from_float(static_cast<float>(rounded)).bits;
  }
};

}  // namespace trainyard

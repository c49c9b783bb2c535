// Element types a Tensor can hold. float32 is the engine's compute type; float64 serves
// gradient checks; the others are declared for mixed precision, labels and raw images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace trainyard {

enum class DType : uint8_t {
  kFloat32,
  kFloat64,
  kBFloat16,
  kFloat16,
  kInt32,
  kInt64,
  kUInt8,
};

// Bytes per element.
size_t dtype_size(DType dtype);

// Keras spelling: "float32", "float64", "bfloat16", "float16", "int32", "int64", "uint8".
std::string_view dtype_name(DType dtype);

// Inverse of dtype_name. Throws ValueError naming the unknown spelling.
DType parse_dtype(std::string_view name);

bool is_floating(DType dtype);

// Maps a C++ element type to its DType (float -> kFloat32, ...).
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::kFloat64;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::kInt64;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::kUInt8;
}

}  // namespace trainyard

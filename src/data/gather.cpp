#include "data/gather.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/thread_pool.h"

namespace trainyard::data::detail {
namespace {

template <typename Source, typename Target>
void convert_elements(const void* source, void* target, int64_t count, double scale) {
  const auto* in = static_cast<const Source*>(source);
  auto* out = static_cast<Target*>(target);
  if constexpr (std::is_floating_point_v<Target>) {
    // Multiply in the target's precision: a float32 batch gets float(x) * float(scale).
    const auto factor = static_cast<Target>(scale);
    if (factor != Target{1}) {
      for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Target>(in[i]) * factor;
      return;
    }
  }
  for (int64_t i = 0; i < count; ++i) out[i] = static_cast<Target>(in[i]);
}

template <typename Source>
ConvertFunction converter_from(DType to) {
  switch (to) {
    case DType::kFloat32:
      return &convert_elements<Source, float>;
    case DType::kFloat64:
      return &convert_elements<Source, double>;
    case DType::kInt32:
      return &convert_elements<Source, int32_t>;
    case DType::kInt64:
      return &convert_elements<Source, int64_t>;
    case DType::kUInt8:
      return &convert_elements<Source, uint8_t>;
    case DType::kBFloat16:
    case DType::kFloat16:
      break;
  }
  return nullptr;
}

[[noreturn]] void throw_unsupported(DType from, DType to) {
  throw ValueError("Dataset::cast: no conversion from " + std::string(dtype_name(from)) + " to " +
                   std::string(dtype_name(to)) +
                   " (supported: float32, float64, int32, int64, uint8)");
}

}  // namespace

ConvertFunction converter(DType from, DType to) {
  ConvertFunction function = nullptr;
  switch (from) {
    case DType::kFloat32:
      function = converter_from<float>(to);
      break;
    case DType::kFloat64:
      function = converter_from<double>(to);
      break;
    case DType::kInt32:
      function = converter_from<int32_t>(to);
      break;
    case DType::kInt64:
      function = converter_from<int64_t>(to);
      break;
    case DType::kUInt8:
      function = converter_from<uint8_t>(to);
      break;
    case DType::kBFloat16:
    case DType::kFloat16:
      break;
  }
  if (function == nullptr) throw_unsupported(from, to);
  return function;
}

void gather_rows(const ArrayGather& gather, std::span<const int64_t> rows, bool consecutive,
                 void* target, bool use_compute_pool) {
  if (rows.empty()) return;
  // Below about 32 KiB per thread a second thread costs more than it saves.
  constexpr size_t kBytesPerThread = 32 * 1024;
  if (use_compute_pool && !consecutive &&
      rows.size() * gather.target_row_bytes >= 2 * kBytesPerThread) {
    int64_t grain = static_cast<int64_t>(
        std::max<size_t>(1, kBytesPerThread / std::max<size_t>(gather.target_row_bytes, 1)));
    parallel_range(static_cast<int64_t>(rows.size()), grain, [&](int64_t begin, int64_t end) {
      gather_rows(gather,
                  rows.subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin)), false,
                  static_cast<unsigned char*>(target) +
                      static_cast<size_t>(begin) * gather.target_row_bytes,
                  false);
    });
    return;
  }
  auto* out = static_cast<unsigned char*>(target);
  if (consecutive) {
    const unsigned char* in =
        gather.source + static_cast<size_t>(rows[0]) * gather.source_row_bytes;
    auto count = static_cast<int64_t>(rows.size());
    if (gather.convert == nullptr) {
      std::memcpy(out, in, rows.size() * gather.source_row_bytes);
    } else {
      gather.convert(in, out, count * gather.row_elements, gather.scale);
    }
    return;
  }
  for (int64_t row : rows) {
    const unsigned char* in = gather.source + static_cast<size_t>(row) * gather.source_row_bytes;
    if (gather.convert == nullptr) {
      std::memcpy(out, in, gather.source_row_bytes);
    } else {
      gather.convert(in, out, gather.row_elements, gather.scale);
    }
    out += gather.target_row_bytes;
  }
}

}  // namespace trainyard::data::detail

#include "data/payload.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"

namespace trainyard::data {
namespace {

constexpr uint64_t kMaxChunkBytes = uint64_t{16} << 20;
// How far past the declared end we keep counting to report an exact size.
constexpr uint64_t kTrailingCountLimit = uint64_t{64} << 20;

[[noreturn]] void throw_truncated(const ByteSource& source, const std::string& declaration,
                                  uint64_t actual) {
  throw DataError(source.name() + ": truncated: " + declaration + ", file holds " +
                  std::to_string(actual));
}

[[noreturn]] void throw_trailing(const ByteSource& source, const std::string& declaration,
                                 const std::string& actual) {
  throw DataError(source.name() + ": trailing data: " + declaration + ", file holds " + actual);
}

}  // namespace

void expect_end_of_source(ByteSource& source, uint64_t expected_bytes,
                          const std::string& declaration) {
  std::array<unsigned char, 1 << 16> scratch;
  uint64_t extra = 0;
  while (extra <= kTrailingCountLimit) {
    size_t count = source.read_some(scratch.data(), scratch.size());
    if (count == 0) break;
    extra += count;
  }
  if (extra == 0) return;
  if (extra > kTrailingCountLimit) {
    throw_trailing(source, declaration, "more than " + std::to_string(expected_bytes + extra));
  }
  throw_trailing(source, declaration, std::to_string(expected_bytes + extra));
}

Tensor read_payload(ByteSource& source, uint64_t declared_bytes, const std::string& declaration) {
  if (auto remaining = source.remaining_bytes()) {
    if (*remaining < declared_bytes) throw_truncated(source, declaration, *remaining);
    if (*remaining > declared_bytes) {
      throw_trailing(source, declaration, std::to_string(*remaining));
    }
  }
  Shape shape{static_cast<int64_t>(declared_bytes)};
  if (source.remaining_bytes() || declared_bytes <= kDirectReadLimit) {
    Tensor bytes = Tensor::zeros(shape, DType::kUInt8);
    size_t count = read_up_to(source, bytes.raw_data(), declared_bytes);
    if (count < declared_bytes) throw_truncated(source, declaration, count);
    expect_end_of_source(source, declared_bytes, declaration);
    return bytes;
  }
  // Unknown length and a large declaration: collect chunks as they arrive.
  std::vector<std::unique_ptr<unsigned char[]>> chunks;
  std::vector<size_t> chunk_sizes;
  uint64_t total = 0;
  uint64_t chunk_bytes = kDirectReadLimit;
  while (total < declared_bytes) {
    size_t wanted = static_cast<size_t>(std::min<uint64_t>(chunk_bytes, declared_bytes - total));
    chunk_bytes = std::min<uint64_t>(2 * chunk_bytes, kMaxChunkBytes);
    chunks.emplace_back(new unsigned char[wanted]);
    size_t count = read_up_to(source, chunks.back().get(), wanted);
    chunk_sizes.push_back(count);
    total += count;
    if (count < wanted) throw_truncated(source, declaration, total);
  }
  expect_end_of_source(source, declared_bytes, declaration);
  Tensor bytes = Tensor::zeros(shape, DType::kUInt8);
  auto* out = static_cast<unsigned char*>(bytes.raw_data());
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::memcpy(out, chunks[i].get(), chunk_sizes[i]);
    out += chunk_sizes[i];
    chunks[i].reset();
  }
  return bytes;
}

}  // namespace trainyard::data

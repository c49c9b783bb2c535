#include "data/idx.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "data/file_source.h"
#include "data/payload.h"

namespace trainyard::data {
namespace {

static_assert(std::endian::native == std::endian::little,
              "IDX decoding assumes a little-endian host");

struct IdxType {
  uint8_t code;
  const char* name;
  size_t element_bytes;  // as stored in the file
  DType dtype;           // as returned
};

constexpr std::array<IdxType, 6> kIdxTypes = {{
    {0x08, "uint8", 1, DType::kUInt8},
    {0x09, "int8", 1, DType::kInt32},
    {0x0B, "int16", 2, DType::kInt32},
    {0x0C, "int32", 4, DType::kInt32},
    {0x0D, "float32", 4, DType::kFloat32},
    {0x0E, "float64", 8, DType::kFloat64},
}};

std::string hex_byte(unsigned value) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[(value >> 4) & 0xf] + digits[value & 0xf];
}

uint32_t big_endian_u32(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// Reverses the byte order of every `element_bytes`-sized element in place.
void swap_bytes_in_place(unsigned char* data, size_t count, size_t element_bytes) {
  if (element_bytes == 1) return;
  for (size_t i = 0; i < count; ++i) {
    unsigned char* element = data + i * element_bytes;
    for (size_t low = 0, high = element_bytes - 1; low < high; ++low, --high) {
      std::swap(element[low], element[high]);
    }
  }
}

std::string join_dims(const std::vector<int64_t>& dims) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += "x";
    text += std::to_string(dims[i]);
  }
  return text;
}

}  // namespace

Tensor read_idx(const std::string& path) {
  FileSource source(path);
  return read_idx(source);
}

Tensor read_idx(ByteSource& source) {
  const std::string& path = source.name();
  std::array<unsigned char, 4> magic{};
  size_t magic_count = read_up_to(source, magic.data(), magic.size());
  if (magic_count < magic.size()) {
    throw DataError(path + ": not an IDX file: " + std::to_string(magic_count) +
                    " bytes is too short for the 4-byte magic");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw DataError(path + ": not an IDX file: bad magic " + hex_byte(magic[0]) + " " +
                    hex_byte(magic[1]) + " (expected 0x00 0x00)");
  }
  const IdxType* type = nullptr;
  for (const IdxType& candidate : kIdxTypes) {
    if (candidate.code == magic[2]) type = &candidate;
  }
  if (type == nullptr) {
    throw DataError(path + ": unknown IDX element type " + hex_byte(magic[2]) +
                    " (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)");
  }
  int rank = magic[3];
  if (rank == 0 || rank > 8) {
    throw DataError(path + ": IDX rank " + std::to_string(rank) + " is out of range 1..8");
  }

  std::array<unsigned char, 32> dim_bytes{};
  size_t dim_count = read_up_to(source, dim_bytes.data(), 4 * static_cast<size_t>(rank));
  if (dim_count < 4 * static_cast<size_t>(rank)) {
    throw DataError(path + ": truncated: header declares rank " + std::to_string(rank) +
                    " but holds only " + std::to_string(dim_count) + " of its " +
                    std::to_string(4 * rank) + " dimension bytes");
  }
  std::vector<int64_t> dims;
  int64_t elements = 1;
  // The product of the nonzero dims bounds every sub-shape's element count, so an empty
  // array (one zero dim) cannot carry rows whose size overflows later arithmetic.
  int64_t nonzero_elements = 1;
  for (int i = 0; i < rank; ++i) {
    auto dim = static_cast<int32_t>(big_endian_u32(dim_bytes.data() + 4 * i));
    if (dim < 0) {
      throw DataError(path + ": dimension " + std::to_string(i) + " is negative (" +
                      std::to_string(dim) + ")");
    }
    dims.push_back(dim);
    // Saturating products: both factors stay below 2^32, so no multiplication overflows.
    elements = std::min(elements * dim, kMaxIdxElements + 1);
    if (dim != 0) nonzero_elements = std::min(nonzero_elements * dim, kMaxIdxElements + 1);
  }
  if (nonzero_elements > kMaxIdxElements) {
    throw DataError(path + ": absurd size: header declares " + join_dims(dims) +
                    "; its nonzero dimensions multiply to more than the limit of 2^31 elements");
  }

  auto declared_bytes = static_cast<uint64_t>(elements) * type->element_bytes;
  std::string declaration = "header declares " + join_dims(dims) + " = ";
  if (type->element_bytes == 1) {
    declaration += std::to_string(declared_bytes) + " bytes of " + type->name + " data";
  } else {
    declaration += std::to_string(elements) + " elements = " + std::to_string(declared_bytes) +
                   " bytes of " + type->name + " data";
  }
  Tensor bytes = read_payload(source, declared_bytes, declaration);
  auto* raw = static_cast<unsigned char*>(bytes.raw_data());
  Shape shape(dims);

  switch (type->code) {
    case 0x09: {
      Tensor result = Tensor::zeros(shape, DType::kInt32);
      int32_t* out = result.data<int32_t>();
      for (int64_t i = 0; i < elements; ++i) out[i] = static_cast<int8_t>(raw[i]);
      return result;
    }
    case 0x0B: {
      Tensor result = Tensor::zeros(shape, DType::kInt32);
      int32_t* out = result.data<int32_t>();
      for (int64_t i = 0; i < elements; ++i) {
        out[i] = static_cast<int16_t>(static_cast<uint16_t>((raw[2 * i] << 8) | raw[2 * i + 1]));
      }
      return result;
    }
    default:
      // Same width in the file and in memory: fix the byte order in place and reinterpret.
      swap_bytes_in_place(raw, static_cast<size_t>(elements), type->element_bytes);
      return bytes.view(0, shape, type->dtype);
  }
}

}  // namespace trainyard::data

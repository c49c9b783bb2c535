#include "data/npy_header.h"

#include <array>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "data/message_text.h"

namespace trainyard::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr uint64_t kMaxDataBytes = uint64_t{1} << 62;

struct DescrInfo {
  const char* descr;
  DType dtype;
};

constexpr std::array<DescrInfo, 6> kDescrs = {{
    {"<f4", DType::kFloat32},
    {"<f8", DType::kFloat64},
    {"<i4", DType::kInt32},
    {"<i8", DType::kInt64},
    {"|u1", DType::kUInt8},
    {"|b1", DType::kUInt8},
}};

// Recursive descent over the header's Python literal, reporting faults against `name`.
class DictParser {
 public:
  DictParser(const std::string& text, const std::string& name) : text_(text), name_(name) {}

  NpyHeader parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> shape;
    skip_space();
    expect('{');
    skip_space();
    while (peek() != '}') {
      std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (descr) fail("key 'descr' appears twice");
        if (peek() == '[') fail("structured dtypes (a list descr) are not supported");
        descr = parse_string();
      } else if (key == "fortran_order") {
        if (fortran_order) fail("key 'fortran_order' appears twice");
        fortran_order = parse_bool();
      } else if (key == "shape") {
        if (shape) fail("key 'shape' appears twice");
        shape = parse_tuple();
      } else {
        fail("unexpected key '" + detail::printable(key) +
             "' (expected descr, fortran_order and shape)");
      }
      skip_space();
      if (peek() == ',') {
        ++position_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}' at offset " + std::to_string(position_));
      }
    }
    ++position_;
    skip_space();
    if (position_ != text_.size()) fail("unexpected text after the dict");
    if (!descr || !fortran_order || !shape) {
      fail("missing key (descr, fortran_order and shape are all required)");
    }
    if (*fortran_order) {
      throw DataError(name_ +
                      ": Fortran-order (column-major) arrays are not supported; save a C-order "
                      "array (numpy.ascontiguousarray) instead");
    }
    return finish(*descr, *shape);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(name_ + ": bad .npy header: " + what);
  }
  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }
  void skip_space() {
    while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                        text_[position_] == '\t' || text_[position_] == '\r')) {
      ++position_;
    }
  }
  void expect(char wanted) {
    if (peek() != wanted) {
      fail(std::string("expected '") + wanted + "' at offset " + std::to_string(position_));
    }
    ++position_;
  }
  std::string parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      fail("expected a quoted string at offset " + std::to_string(position_));
    size_t end = text_.find(quote, position_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string value = text_.substr(position_ + 1, end - position_ - 1);
    position_ = end + 1;
    return value;
  }
  bool parse_bool() {
    if (text_.compare(position_, 4, "True") == 0) {
      position_ += 4;
      return true;
    }
    if (text_.compare(position_, 5, "False") == 0) {
      position_ += 5;
      return false;
    }
    fail("fortran_order must be True or False");
  }
  std::vector<int64_t> parse_tuple() {
    expect('(');
    std::vector<int64_t> dims;
    skip_space();
    while (peek() != ')') {
      if (peek() == '-') fail("negative dimension in shape");
      if (peek() < '0' || peek() > '9') fail("shape must be a tuple of integers");
      int64_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (value > (int64_t{1} << 56)) fail("dimension too large in shape");
        value = value * 10 + (peek() - '0');
        ++position_;
      }
      if (peek() == 'L') ++position_;  // Python 2 long literals in old files
      dims.push_back(value);
      skip_space();
      if (peek() == ',') {
        ++position_;
        skip_space();
      } else if (peek() != ')') {
        fail("expected ',' or ')' in shape");
      }
    }
    ++position_;
    if (dims.size() > 32) fail("rank " + std::to_string(dims.size()) + " exceeds NumPy's 32");
    return dims;
  }
  NpyHeader finish(const std::string& descr, std::vector<int64_t> shape) const {
    NpyHeader header;
    header.descr = descr;
    const DescrInfo* info = nullptr;
    for (const DescrInfo& candidate : kDescrs) {
      if (descr == candidate.descr) info = &candidate;
    }
    if (info == nullptr) {
      std::string why =
          !descr.empty() && descr[0] == '>' ? " (big-endian data is not supported)" : "";
      fail("unsupported descr '" + detail::printable(descr) + "'" + why +
           "; supported: <f4, <f8, <i4, <i8, |u1, |b1");
    }
    header.dtype = info->dtype;
    uint64_t element_bytes = dtype_size(info->dtype);
    // Checked over the nonzero dims, as NumPy does: an empty array (one zero dim) must not
    // carry rows whose size overflows later arithmetic.
    uint64_t nonzero_bytes = element_bytes;
    bool empty = false;
    for (int64_t dim : shape) {
      if (dim == 0) {
        empty = true;
        continue;
      }
      if (nonzero_bytes > kMaxDataBytes / static_cast<uint64_t>(dim)) {
        fail("shape describes more than 2^62 bytes");
      }
      nonzero_bytes *= static_cast<uint64_t>(dim);
    }
    uint64_t bytes = empty ? 0 : nonzero_bytes;
    header.shape = std::move(shape);
    header.data_bytes = bytes;
    return header;
  }

  const std::string& text_;
  const std::string& name_;
  size_t position_ = 0;
};

uint32_t little_endian(const unsigned char* bytes, size_t count) {
  uint32_t value = 0;
  for (size_t i = count; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

NpyHeader read_npy_header(ByteSource& source) {
  const std::string& name = source.name();
  std::array<unsigned char, 12> prefix{};
  size_t count = read_up_to(source, prefix.data(), 10);
  if (count < 10 || std::memcmp(prefix.data(), kMagic, kMagicBytes) != 0) {
    throw DataError(name + ": not a .npy file: missing the \\x93NUMPY magic");
  }
  int major = prefix[6];
  int minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw DataError(name + ": unsupported .npy version " + std::to_string(major) + "." +
                    std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  uint32_t header_bytes = 0;
  if (major == 1) {
    header_bytes = little_endian(prefix.data() + 8, 2);
  } else {
    if (read_up_to(source, prefix.data() + 10, 2) < 2) {
      throw DataError(name + ": truncated .npy header length");
    }
    header_bytes = little_endian(prefix.data() + 8, 4);
  }
  if (header_bytes > kMaxNpyHeaderBytes) {
    throw DataError(name + ": bad .npy header: declared length " + std::to_string(header_bytes) +
                    " exceeds the limit of " + std::to_string(kMaxNpyHeaderBytes) + " bytes");
  }
  std::string text(header_bytes, '\0');
  if (read_up_to(source, text.data(), header_bytes) < header_bytes) {
    throw DataError(name + ": truncated: .npy header declares " + std::to_string(header_bytes) +
                    " bytes of dict, the file ends before");
  }
  return DictParser(text, name).parse();
}

std::string describe_npy_payload(const NpyHeader& header) {
  std::string text = "header declares shape (";
  for (size_t i = 0; i < header.shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(header.shape[i]);
  }
  text += header.shape.size() == 1 ? ",)" : ")";
  return text + " of '" + header.descr + "' = " + std::to_string(header.data_bytes) + " bytes";
}

std::string format_npy_header(DType dtype, const std::vector<int64_t>& shape) {
  const char* descr = nullptr;
  for (const DescrInfo& candidate : kDescrs) {
    if (candidate.dtype == dtype && descr == nullptr) descr = candidate.descr;
  }
  if (descr == nullptr) {
    throw ValueError("write_npy: dtype " + std::string(dtype_name(dtype)) +
                     " cannot be written to .npy (supported: float32, float64, int32, int64, "
                     "uint8)");
  }
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1) dict += ",";
  dict += "), }";
  // Magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64.
  size_t unpadded = kMagicBytes + 4 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string header(kMagic, kMagicBytes);
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

}  // namespace trainyard::data

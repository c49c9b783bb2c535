#include "data/message_text.h"

namespace trainyard::data::detail {

std::string printable(std::string_view text, size_t max_bytes) {
  const char* digits = "0123456789abcdef";
  std::string result;
  size_t shown = text.size() < max_bytes ? text.size() : max_bytes;
  result.reserve(shown + 3);
  for (size_t i = 0; i < shown; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\') {
      result += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      result += static_cast<char>(byte);
    } else {
      result += "\\x";
      result += digits[byte >> 4];
      result += digits[byte & 0xf];
    }
  }
  if (shown < text.size()) result += "...";
  return result;
}

}  // namespace trainyard::data::detail

#include "data/byte_source.h"

namespace trainyard::data {

size_t read_up_to(ByteSource& source, void* destination, size_t size) {
  auto* out = static_cast<unsigned char*>(destination);
  size_t total = 0;
  while (total < size) {
    size_t count = source.read_some(out + total, size - total);
    if (count == 0) break;
    total += count;
  }
  return total;
}

}  // namespace trainyard::data

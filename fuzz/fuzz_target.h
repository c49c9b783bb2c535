// What every trainyard fuzz target shares: a reader may only fail with the errors its
// contract names (DataError, IOError), and their message must start with the name of the
// input. Anything else (another exception type, a message that does not name the input)
// aborts, which libFuzzer reports as a crash and saves the input for the corpus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "core/error.h"
#include "core/tensor.h"

namespace trainyard::fuzz {

// Runs `read`; a DataError or IOError whose message starts with `name` is a clean failure.
template <typename Read>
void expect_clean_failure(std::string_view name, Read&& read) {
  const char* message = nullptr;
  try {
    read();
    return;
  } catch (const DataError& error) {
    if (std::string_view(error.what()).starts_with(name)) return;
    message = error.what();
  } catch (const IOError& error) {
    if (std::string_view(error.what()).starts_with(name)) return;
    message = error.what();
  }
  std::fprintf(stderr, "error message does not start with the input's name '%.*s': %s\n",
               static_cast<int>(name.size()), name.data(), message);
  std::abort();
}

inline std::span<const unsigned char> bytes_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const unsigned char*>(data), size};
}

// Reads every byte of `tensor`, so one that claims more memory than it holds shows up
// under AddressSanitizer.
inline void touch(const Tensor& tensor) {
  const auto* bytes = static_cast<const unsigned char*>(tensor.raw_data());
  unsigned char sum = 0;
  for (size_t i = 0; i < tensor.nbytes(); ++i) sum = static_cast<unsigned char>(sum + bytes[i]);
  volatile unsigned char sink = sum;
  (void)sink;
}

}  // namespace trainyard::fuzz

// Fuzzes read_npz on an in-memory archive. A small byte limit keeps one input's memory
// bounded while still reaching the limit check.
#include "data/npz.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trainyard;
  constexpr uint64_t kMaxTotalBytes = uint64_t{64} << 20;
  fuzz::expect_clean_failure("fuzz.npz", [&] {
    auto arrays = data::read_npz(fuzz::bytes_of(data, size), "fuzz.npz", kMaxTotalBytes);
    for (const auto& [name, tensor] : arrays) fuzz::touch(tensor);
  });
  return 0;
}

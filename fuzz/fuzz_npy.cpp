// Fuzzes read_npy through a MemorySource: raw and gzip-compressed .npy bytes alike.
#include "data/memory_source.h"
#include "data/npy.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trainyard;
  fuzz::expect_clean_failure("fuzz.npy", [&] {
    data::MemorySource source(fuzz::bytes_of(data, size), "fuzz.npy");
    fuzz::touch(data::read_npy(source));
  });
  return 0;
}

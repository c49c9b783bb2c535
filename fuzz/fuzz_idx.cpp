// Fuzzes read_idx through a MemorySource: raw and gzip-compressed IDX bytes alike.
#include "data/idx.h"
#include "data/memory_source.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trainyard;
  fuzz::expect_clean_failure("fuzz.idx", [&] {
    data::MemorySource source(fuzz::bytes_of(data, size), "fuzz.idx");
    fuzz::touch(data::read_idx(source));
  });
  return 0;
}

// Fuzzes read_csv through a MemorySource. Each input is read without and with a header row
// and with a second delimiter, so the corpus stays plain CSV files shared with the tests.
#include "data/csv.h"
#include "data/memory_source.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trainyard;
  constexpr data::CsvOptions kOptions[] = {
      {.header = false, .delimiter = ','},
      {.header = true, .delimiter = ','},
      {.header = true, .delimiter = '\t'},
  };
  for (const data::CsvOptions& options : kOptions) {
    fuzz::expect_clean_failure("fuzz.csv", [&] {
      data::MemorySource source(fuzz::bytes_of(data, size), "fuzz.csv");
      data::CsvTable table = data::read_csv(source, options);
      fuzz::touch(table.values);
    });
  }
  return 0;
}

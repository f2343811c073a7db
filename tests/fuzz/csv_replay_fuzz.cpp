// libFuzzer target: the replay CSV reader (`ctmon replay --input`) over hostile files. Every
// malformed file must end in a UserError, never a crash, a hang or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/sample.h"
#include "monitor/source/csv_source.h"
#include "monitor/user_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    ctmon::CsvSource source(in, "fuzz.csv");
    ctmon::CounterCatalog catalog;
    ctmon::Sample sample;
    // A row is at least a newline, so this bounds the loop even if next() never said false.
    for (std::size_t rows = 0; rows <= size && source.next(sample, catalog); ++rows) {
      if (sample.counters.size() > catalog.size()) __builtin_trap();
    }
  } catch (const ctmon::UserError&) {
  }
  return 0;
}

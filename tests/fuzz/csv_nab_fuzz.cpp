// libFuzzer target: the NAB gauge CSV reader (`ctmon replay --format nab`) and its timestamp
// parsers over hostile files. Malformed input must end in a UserError (or false), never a crash.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "monitor/source/csv_source.h"
#include "monitor/user_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::int64_t value = 0;
  (void)ctmon::parse_utc_datetime(text, value);
  (void)ctmon::parse_unix_seconds(text, value);
  std::istringstream in(text);
  try {
    ctmon::GaugeCsvReader reader(in, "fuzz.csv");
    ctmon::GaugeRow row;
    for (std::size_t rows = 0; rows <= size && reader.next(row); ++rows) {
    }
  } catch (const ctmon::UserError&) {
  }
  return 0;
}

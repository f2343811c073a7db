// libFuzzer target: --since/--until arguments. Any text must give a time or a UserError; the
// time it gives must print back (format_local_time) without overflow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "monitor/cli/time_arg.h"
#include "monitor/user_error.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A zone with daylight saving time, so the DST paths of mktime/localtime run too.
  setenv("TZ", "Europe/Berlin", 1);
  tzset();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::int64_t kNow = 1'795'000'000'000'000'000;  // 2026-11-18
  try {
    const std::int64_t at = ctmon::cli::parse_time_arg("--since", text, kNow);
    (void)ctmon::cli::format_local_time(at);
  } catch (const ctmon::UserError&) {
  }
  return 0;
}

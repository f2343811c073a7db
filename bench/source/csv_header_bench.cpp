// Time to read the header of a replay CSV with many columns (the duplicate-name check is the
// part that grows with them). Prints columns and milliseconds; no pass/fail.
//
// Usage: csv_header_bench [columns=70000]
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>

#include <fmt/core.h>

#include "monitor/source/csv_source.h"

int main(int argc, char** argv) {
  const long columns = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 70'000;
  std::string text = "timestamp";
  for (long i = 0; i < columns; ++i) text += fmt::format(",tcp_conntrack_counter_{}", i);
  text += "\n";
  std::istringstream in(text);
  const auto start = std::chrono::steady_clock::now();
  const ctmon::CsvSource source(in, "bench.csv");
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  fmt::print("header of {} columns ({} counters): {:.1f} ms\n", columns,
             source.counter_names().size(), took.count());
  return 0;
}

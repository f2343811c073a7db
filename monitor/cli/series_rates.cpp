#include "monitor/cli/series_rates.h"

#include <fmt/core.h>

#include "core/time.h"

namespace ctmon::cli {
namespace {

// Seconds since the epoch with the precision the samples have (ms), no trailing zeros.
std::string unix_seconds(std::int64_t wall_ns) {
  std::string text = fmt::format("{:.3f}", static_cast<double>(wall_ns) / kNsPerS);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

void write_replay_csv(std::FILE* out_file, const store::Series& series, const std::vector<CounterId>& ids) {
  std::string out = "timestamp";
  for (const CounterId id : ids) out += "," + series.catalog.name(id);
  out += '\n';
  for (const Sample& sample : series.samples) {
    out += unix_seconds(sample.wall_ns);
    for (const CounterId id : ids) {
      out += ',';
      if (id < sample.counters.size() && sample.counters[id].present)
        out += std::to_string(sample.counters[id].packets);
    }
    out += '\n';
    if (out.size() > 1 << 16) {
      std::fwrite(out.data(), 1, out.size(), out_file);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), out_file);
}

}  // namespace ctmon::cli

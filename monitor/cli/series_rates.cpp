#include "monitor/cli/series_rates.h"

#include <fmt/core.h>

#include "core/measurement.h"
#include "core/time.h"

namespace ctmon::cli {
namespace {

// A value with at most three decimals and no trailing zeros: the precision of the samples'
// times (ms), and what the replay reader keeps of a mean counter's value.
std::string decimal(double value) {
  std::string text = fmt::format("{:.3f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string unix_seconds(std::int64_t wall_ns) { return decimal(static_cast<double>(wall_ns) / kNsPerS); }

}  // namespace

std::vector<std::uint8_t> mean_counters(const CounterCatalog& catalog) {
  std::vector<std::uint8_t> is_mean(catalog.size(), 0);
  for (CounterId id = 0; id < catalog.size(); ++id)
    is_mean[id] = counter_meaning(catalog.name(id)) == CounterMeaning::mean ? 1 : 0;
  return is_mean;
}

void write_replay_csv(std::FILE* out_file, const store::Series& series, const std::vector<CounterId>& ids) {
  const std::vector<std::uint8_t> is_mean = mean_counters(series.catalog);
  std::string out = "timestamp";
  for (const CounterId id : ids) out += "," + series.catalog.name(id);
  out += '\n';
  const Sample* previous = nullptr;
  for (const Sample& sample : series.samples) {
    out += unix_seconds(sample.wall_ns);
    for (const CounterId id : ids) {
      out += ',';
      if (id >= sample.counters.size() || !sample.counters[id].present) continue;
      const CounterTotals& now = sample.counters[id];
      if (is_mean[id] == 0) {
        out += std::to_string(now.packets);
        continue;
      }
      if (previous == nullptr || id >= previous->counters.size() || !previous->counters[id].present) continue;
      const CounterTotals& before = previous->counters[id];
      if (now.packets <= before.packets || now.bytes < before.bytes) continue;  // no observation, or a reset
      out += decimal(static_cast<double>(now.bytes - before.bytes) / static_cast<double>(now.packets - before.packets));
    }
    previous = &sample;
    out += '\n';
    if (out.size() > 1 << 16) {
      std::fwrite(out.data(), 1, out.size(), out_file);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), out_file);
}

}  // namespace ctmon::cli

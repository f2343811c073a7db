// libFuzzer target: the saved detector state (Analyzer::restore_state, detectors/state_codec) over
// hostile bytes, as a corrupt database would hand it over. Bytes must be restored or refused with
// a reason; restored state must then score samples without a crash or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "detectors/analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ctmon::Analyzer analyzer(ctmon::AnalyzerConfig::network(5.0));
  const ctmon::RestoreStatus status = analyzer.restore_state(bytes);
  if (!status.ok) {
    if (status.error.empty()) __builtin_trap();
    return 0;
  }
  ctmon::CounterCatalog catalog;
  for (const char* name : {"tcp_conntrack_fwd_new", "tcp_conntrack_fwd_established",
                           "udp_conntrack_input_invalid"})
    catalog.intern(name);
  constexpr std::int64_t kS = 1'000'000'000;
  ctmon::Sample sample;
  sample.counters.assign(catalog.size(), {1000, 64000, true});
  for (int k = 0; k < 8; ++k) {
    sample.mono_ns = (1000 + 5 * k) * kS;
    sample.wall_ns = 1'795'000'000 * kS + sample.mono_ns;
    for (auto& counter : sample.counters) counter.packets += static_cast<std::uint64_t>(k * k * 50);
    (void)analyzer.observe(sample, catalog, 3600);
  }
  (void)analyzer.save_state();
  return 0;
}

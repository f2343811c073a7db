#pragma once
// Measurements that are not packet counts (probe round trips, the conntrack table's fill) travel
// as counters too, so that every part that handles counters (the catalog, the store's blocks and
// rollups, the replay CSV, the detectors, `ctmon series`) handles them without a second path.
//
// A *mean counter* accumulates like a Prometheus summary: `packets` counts observations and
// `bytes` sums their values, both cumulative. Its value over any span is
//
//     (bytes(t1) - bytes(t0)) / (packets(t1) - packets(t0))
//
// the mean of what was observed in the span: one interval gives that interval's value, an hour's
// rollup gives the hour's mean, and a span without observations has no value (never 0). A *rate
// counter* is a packet counter, its value is packets per second. The name alone says which
// (docs/measurements.md has the naming and every name's meaning):
//
//   probe_<side>[_<target>]_<metric>   mean; side `wan` or `lan`; target [a-z0-9]{1,15};
//                                      metric rtt_min_us, rtt_median_us, rtt_max_us, jitter_us
//                                      (per interval, microseconds) or loss (lost/sent)
//   conntrack_entries, conntrack_limit mean; the table's entries and its maximum, per reading
//   conntrack_stat_<stat>              rate; the kernel's per-CPU statistics summed (drop, ...)
//   everything else                    rate (the nftables counters)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctmon {

enum class CounterMeaning : std::uint8_t {
  rate,  ///< packets per second
  mean,  ///< Δbytes / Δpackets: the mean observed value over the span
};

/// What one unit of a counter's value is, for printing it.
enum class MeasureUnit : std::uint8_t {
  packets_per_s,  ///< nftables counters and conntrack_stat_* (events per second)
  microseconds,   ///< probe RTT and jitter
  fraction,       ///< probe loss, 0..1
  entries,        ///< conntrack table entries and limit
};

[[nodiscard]] CounterMeaning counter_meaning(std::string_view name);
[[nodiscard]] MeasureUnit measure_unit(std::string_view name);

/// Which side of the router a probe target is on: `where` (isp, router, lan_device) compares them.
enum class ProbeSide : std::uint8_t { wan, lan };

/// The parts of a probe counter's name.
struct ProbeCounterName {
  ProbeSide side = ProbeSide::wan;
  std::string target;  ///< empty for the side's default target (`probe_wan_jitter_us`)
  std::string metric;  ///< "rtt_min_us", "rtt_median_us", "rtt_max_us", "jitter_us", "loss"
};

/// Splits `probe_<side>[_<target>]_<metric>`; nullopt for any other name.
[[nodiscard]] std::optional<ProbeCounterName> parse_probe_counter_name(std::string_view name);

/// The counter name of `metric` for a probe target; `target` empty for the side's default.
/// The caller has checked target with valid_probe_target_name().
[[nodiscard]] std::string probe_counter_name(ProbeSide side, std::string_view target, std::string_view metric);

/// True for [a-z0-9]{1,15}: a target name goes into counter names, InfluxDB fields and logs.
[[nodiscard]] bool valid_probe_target_name(std::string_view target);

/// A person's name for a measurement counter: "WAN jitter", "LAN nas RTT median", "WAN loss",
/// "conntrack entries", "conntrack drop"; nullopt for the nftables counters (which have their own
/// `<proto> <hook> <state>` label). Every output that prints a measurement uses this one.
[[nodiscard]] std::optional<std::string> measurement_label(std::string_view name);

/// A value in its unit, the way ctmon prints it everywhere: "85 ms", "0.35 ms", "30 %",
/// "60300 entries", "12/s". `value` is what counter_meaning() yields (µs for RTT and jitter).
[[nodiscard]] std::string format_measurement(MeasureUnit unit, double value);

/// "wan" or "lan".
[[nodiscard]] std::string_view to_string(ProbeSide side);

}  // namespace ctmon

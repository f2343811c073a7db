#pragma once
// Active probes as an input of the daemon (io/input.h, docs/measurements.md): round trips to a
// few targets, several probes per interval, spread over it with a phase per target so that no
// two targets send at once and no target ever bursts. The input emits no samples: the counter
// source paces sampling and add_totals() adds each target's cumulative mean counters
// (probe_<side>[_<name>]_{rtt_min_us,rtt_median_us,rtt_max_us,jitter_us,loss}) to its readings.
//
// Transport, chosen once per address family at start:
//   1. an unprivileged ICMP "ping" socket (SOCK_DGRAM, IPPROTO_ICMP/ICMPV6): allowed when the
//      daemon's group is in net.ipv4.ping_group_range (a fresh network namespace has "1 0":
//      nobody); the kernel sets the echo id and hands the socket only its own replies;
//   2. a raw ICMP socket (CAP_NET_RAW): connected to the target, so the kernel drops replies
//      from other addresses, and filtered to echo replies; the id is ours and is checked, since
//      a raw socket sees every echo reply of the host;
//   3. TCP connect timing, when the target has a port: a SYN-ACK or a RST is an answer.
// Replies are matched to probes by sequence number (and id on raw sockets).
//
// Times: CLOCK_MONOTONIC (monitor/clock.h) when the probe is sent and when the poll loop reads
// the reply. Not SO_TIMESTAMPNS: it stamps with CLOCK_REALTIME, which jumps (NTP on a router
// without RTC) and cannot be subtracted from a monotonic send time; the price is the loop's
// wake-up latency in each RTT, tens of microseconds on an idle router.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/io/input.h"
#include "monitor/io/log_sink.h"
#include "monitor/probe/probe_target.h"

namespace ctmon::probe {

/// How probes reach a target.
enum class Transport { kPingSocket, kRawSocket, kTcp };
[[nodiscard]] std::string_view to_string(Transport transport);

class ProbeInput : public io::Input {
 public:
  /// Opens one socket per target. Throws UserError when no transport is allowed for a target
  /// the user named (saying what to do); a target `auto` found is then skipped, logged.
  ProbeInput(std::vector<ProbeTarget> targets, int per_interval, double interval_s, io::LogSink log,
             std::int64_t now_mono_ns);
  ~ProbeInput() override;
  ProbeInput(const ProbeInput&) = delete;
  ProbeInput& operator=(const ProbeInput&) = delete;

  [[nodiscard]] std::string_view name() const override { return "probes"; }
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns, CounterCatalog& catalog, io::SampleSink& sink) override;
  void add_totals(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;
  /// A new interval re-spreads the probes over it.
  void reload(const Config& fresh) override;
  [[nodiscard]] std::size_t target_count() const { return targets_.size(); }

 private:
  class Target;
  std::vector<std::unique_ptr<Target>> targets_;
  io::LogSink log_;
  int per_interval_ = 5;
};

/// The daemon's probe input for `config`, or nullptr when probing is off or `auto` found no
/// target (each missing one logged). Throws UserError for bad targets or missing privileges.
[[nodiscard]] std::unique_ptr<io::Input> make_probe_input(const Config& config, const io::LogSink& log,
                                                          std::int64_t now_mono_ns);

}  // namespace ctmon::probe

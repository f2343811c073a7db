#pragma once
// What a running daemon says about itself, on demand: the one definition shared by the daemon
// (which fills it, each input and output its own part) and every reader (`ctmon status`,
// `ctmon events`, scripts), with the one JSON codec between them.
//
// The wire format is one JSON object (docs/daemon.md lists every key):
//   pid, started_ts, interval_s, samples, episodes_opened, open_episode, detector_us_per_sample,
//   detector_s_total, learning_until_ts (0 once the detectors detect; optional for readers:
//   daemons before it did not send it), the counter source's table, table_state ("ok", "missing", "no counters",
//   "rules missing", "error: <why>"), counters, missed_ticks, last_sample_ts, read_s_total; the
//   store's db, commit_interval_s, samples_in_ram, samples_dropped, store_state ("ok", "disk
//   full", ...); and, only when forwarding is on, influx {state, detail, queued,
//   last_success_ts, retry_in_ms, sent_lines, rejected_lines}; and, only when a notification
//   output is on, notify: [{name, target, state, detail, queued, delivered, failed,
//   last_success_ts, last_error_ts}], one per notification output (target is optional for
//   readers: daemons before it did not send it); and, only when the Prometheus endpoint is on,
//   prometheus {listen, scrapes, last_scrape_ts, last_error, last_error_ts}; and, only when
//   conntrack health is on, conntrack {state, detail, entries, limit, drops, readings, failures,
//   read_us} (entries and limit null when the kernel does not report them).
//   probing is on, probes: [{target, address, transport, state, median_rtt_ms, max_rtt_ms, jitter_ms, loss,
//   sent}]
//   (optional for readers: daemons before it did not send it).
// Times are Unix seconds (floats; 0 = never). Readers ignore keys they do not know, so a newer
// daemon can add keys; a key a reader needs that is missing or mistyped is an error, not a
// default.
//
// Adding an input or an output that reports status: a sub-struct here, one member of
// DaemonStatus (std::optional when the part can be off), and its lines in the codec.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/store/sample_writer.h"

namespace ctmon::status {

/// The counter table as the counter source last found it. kRulesMissing: the counters are there
/// but rules feeding them are not (`nft flush table`), so they read, frozen.
enum class TableState { kOk, kMissing, kNoCounters, kUnreadable, kRulesMissing };

/// The counter source (the input that reads the nftables counters).
struct CounterSourceStatus {
  std::string table;                     ///< "ip:conntrack_stats"
  TableState table_state = TableState::kOk;
  std::string table_error;               ///< why, with kUnreadable; empty otherwise
  std::uint64_t counters = 0;            ///< counters in the table at the last reading
  std::uint64_t missed_ticks = 0;        ///< ticks skipped because sampling fell behind
  std::int64_t last_sample_wall_ns = 0;  ///< 0: no sample yet
  double read_s_total = 0;               ///< time spent in the readings that made samples
};

/// The store (the output that keeps samples and episodes in the database).
struct StoreStatus {
  std::string db;
  double commit_interval_s = 0;
  std::uint64_t samples_in_ram = 0;      ///< taken but not yet committed
  std::uint64_t samples_dropped = 0;     ///< lost to the RAM bound while commits failed
  store::CommitCondition state = store::CommitCondition::kOk;  ///< of the last commit
};

/// The InfluxDB output; present only when forwarding is on.
struct InfluxStatus {
  std::string state = "idle";            ///< idle, sending, ok, or the last failure's name
  std::string detail;                    ///< the last error with a hint; empty when ok
  std::uint64_t queued = 0;              ///< lines in the outbox
  std::int64_t last_success_wall_ns = 0; ///< 0: never
  std::int64_t retry_in_ms = 0;
  std::uint64_t sent_lines = 0;
  std::uint64_t rejected_lines = 0;
};

/// One notification output (the exec hook, the webhook, ...); listed only when it is on.
struct NotifierStatus {
  std::string name;                       ///< "exec", "mqtt", "webhook"
  std::string target;                     ///< the hook's path, the broker's URL, the webhook's URL
                                          ///< (credentials and query redacted)
  std::string state = "idle";             ///< idle, running, sending, ok, connected, or the last failure
  std::string detail;                     ///< the last failure in one line; empty when ok
  std::uint64_t queued = 0;               ///< notifications waiting to run or to be sent
  std::uint64_t delivered = 0;            ///< since start
  std::uint64_t failed = 0;               ///< failed attempts since start
  std::int64_t last_success_wall_ns = 0;  ///< 0: never
  std::int64_t last_error_wall_ns = 0;    ///< 0: never
};

/// The Prometheus endpoint (GET /metrics); present only when it is on.
struct PrometheusStatus {
  std::string listen;                     ///< the address it listens on, "192.168.1.1:9101"
  std::uint64_t scrapes = 0;              ///< /metrics answered since start
  std::int64_t last_scrape_wall_ns = 0;   ///< 0: never
  std::string last_error;                 ///< the last failure in one line; empty: none
  std::int64_t last_error_wall_ns = 0;    ///< 0: never
};

/// Conntrack table health (monitor/conntrack/); present only when it is on.
struct ConntrackStatus {
  std::string state = "waiting";          ///< waiting (no reading yet), ok, or the failure's name
  std::string detail;                     ///< the failure and what to do, in one line; empty when ok
  std::optional<std::uint64_t> entries;   ///< at the last reading; absent: not reported
  std::optional<std::uint64_t> limit;     ///< net.netfilter.nf_conntrack_max
  std::uint64_t drops = 0;                ///< drop + early_drop over all CPUs since the daemon started
  std::uint64_t readings = 0;             ///< successful readings since start
  std::uint64_t failures = 0;             ///< failed readings since start
  double read_us = 0;                     ///< mean cost of a successful reading, wall clock
};

/// One probe target (monitor/probe/); listed only when probing is on.
struct ProbeStatus {
  std::string target;       ///< "wan", "lan", "wan_google": its counters' probe_<target>_
  std::string address;      ///< "192.0.2.1", "[2001:db8::1]:443" with TCP
  std::string transport;    ///< "icmp" (ping socket), "icmp-raw", "tcp"
  std::string state;        ///< "starting", "ok", "unreachable"
  double median_rtt_ms = -1;  ///< of the last interval with a reply; -1: none yet
  double max_rtt_ms = -1;     ///< of that interval too
  double jitter_ms = -1;      ///< over the last interval's pairs of replies; -1: none
  double loss = 0;          ///< of the last interval, 0..1
  std::uint64_t sent = 0;   ///< probes since start
};

struct DaemonStatus {
  std::int64_t pid = 0;
  std::int64_t started_wall_ns = 0;
  double interval_s = 0;                 ///< the sampling interval in force
  std::uint64_t samples = 0;             ///< fed to the detectors since start
  std::uint64_t episodes_opened = 0;
  bool open_episode = false;
  double detector_us_per_sample = 0;     ///< mean detector time, wall clock
  double detector_s_total = 0;           ///< detector time over all samples
  /// While the detectors learn (no episode can open): when that should end. 0: detecting.
  std::int64_t learning_until_wall_ns = 0;
  CounterSourceStatus source;
  StoreStatus store;
  std::optional<InfluxStatus> influx;
  std::vector<NotifierStatus> notifiers;
  std::optional<PrometheusStatus> prometheus;
  std::optional<ConntrackStatus> conntrack;
  std::vector<ProbeStatus> probes;
};

/// "ok", "missing", "no counters", "rules missing", or "error: <why>" (with `error`).
[[nodiscard]] std::string table_state_text(TableState state, const std::string& error);

/// The wire form described above.
[[nodiscard]] nlohmann::json to_json(const DaemonStatus& status);

/// A message that is not a DaemonStatus: a key that is missing or of the wrong type.
class StatusFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads the wire form. Throws StatusFormatError naming the first key that is missing or mistyped.
[[nodiscard]] DaemonStatus daemon_status_from_json(const nlohmann::json& json);

}  // namespace ctmon::status

#pragma once
// `prometheus_listen`: an HTTP endpoint answering `GET /metrics` (exposition.h) for a Prometheus
// server to scrape, as an output of the daemon (io/output.h). Off (never constructed) while
// prometheus_listen is empty.
//
// Why libmicrohttpd: a scrape is a plain HTTP/1.1 GET, but parsing requests from a network is
// where hand-written servers go wrong (partial reads, pipelining, keep-alive, oversized
// headers); libmicrohttpd is small (155 KB of code on x86-64 in Debian's build; OpenWrt ships a
// variant without TLS, libmicrohttpd-no-ssl), has no thread of its own when asked, and exposes
// its descriptors and its next timeout, which is exactly io/part.h's want()/pump(). Heavier
// choices (a C++ web framework, prometheus-cpp with civetweb) bring threads of their own.
//
// How it runs, and why a client can never hold up sampling:
//   - External polling: no thread. want() hands the daemon's ppoll() libmicrohttpd's descriptor
//     (epoll's, one descriptor, where the library has it) and its next timeout; pump() calls
//     MHD_run(), which never blocks. The answer is rendered in that pump, from the daemon's
//     status and the last sample: microseconds, no I/O.
//   - Bounded: at most kMaxConnections clients (kMaxPerAddress from one address), kMemoryLimit
//     bytes of request per connection (a larger request gets an error and is closed), and a
//     client that stays silent for kIdleTimeout_s is disconnected.
//   - The listening socket is made here, not by the library, to say exactly why it cannot be:
//     address in use, no such address, no permission; each is a UserError (start-up stops), as
//     is a malformed address (config/listen_address.h).
//   - Failures while serving (connection limit reached, an accept error) are logged once per
//     kind of failure and shown in report(); the next answered scrape logs the recovery.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/config/listen_address.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/log_sink.h"
#include "monitor/io/output.h"
#include "monitor/prometheus/exposition.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace ctmon::prometheus {

/// The daemon's status as `ctmon status` gets it (the daemon fills it from every part).
using StatusSource = std::function<status::DaemonStatus()>;

class PrometheusOutput : public io::Output {
 public:
  static constexpr unsigned kMaxConnections = 8;
  static constexpr unsigned kMaxPerAddress = 4;
  static constexpr std::size_t kMemoryLimit = 16 * 1024;
  static constexpr unsigned kIdleTimeout_s = 10;

  /// Listens on `address` at once. Throws UserError when it cannot (in use, no such address,
  /// no permission).
  PrometheusOutput(const ListenAddress& address, StatusSource status, io::LogSink log);
  ~PrometheusOutput() override;
  PrometheusOutput(const PrometheusOutput&) = delete;
  PrometheusOutput& operator=(const PrometheusOutput&) = delete;

  [[nodiscard]] std::string_view name() const override { return "prometheus"; }
  void on_sample(const io::SampleView& view) override;
  void on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) override;
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// The port it listens on (the configured one; the kernel's choice for port 0 in tests).
  [[nodiscard]] std::uint16_t port() const { return port_; }

  /// The answer to one request (for libmicrohttpd's callback). Returns the MHD result.
  int answer(MHD_Connection* connection, std::string_view url, std::string_view method);
  /// One message from libmicrohttpd's log (for its callback).
  void library_error(std::string message);

 private:
  struct DaemonDeleter {
    void operator()(MHD_Daemon* daemon) const;
  };

  [[nodiscard]] std::string metrics();
  void say(io::Severity severity, const std::string& line) const;

  StatusSource status_;
  io::LogSink log_;
  std::unique_ptr<MHD_Daemon, DaemonDeleter> daemon_;
  std::uint16_t port_ = 0;
  std::vector<std::string> names_;          // the catalog's names as of the last sample
  std::vector<CounterTotals> totals_;       // the last sample's, by CounterId
  EpisodeCounts episodes_{};
  ConditionLog<std::string> trouble_;
  status::PrometheusStatus state_;
};

/// The endpoint `config` asks for, or nullptr when prometheus_listen is empty. Throws UserError
/// for a malformed address and like PrometheusOutput's constructor.
[[nodiscard]] std::unique_ptr<PrometheusOutput> make_output(const Config& config, StatusSource status,
                                                            io::LogSink log);

}  // namespace ctmon::prometheus

#include "monitor/probe/probe_input.h"

#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/io/condition_log.h"
#include "monitor/owned_fd.h"
#include "monitor/probe/default_targets.h"
#include "monitor/probe/probe_stats.h"
#include "monitor/user_error.h"

namespace ctmon::probe {
namespace {

constexpr std::int64_t kSecond_ns = 1'000'000'000;
constexpr int kMetricCount = 5;
constexpr std::string_view kMetrics[kMetricCount] = {"rtt_min_us", "rtt_median_us", "rtt_max_us",
                                                      "jitter_us", "loss"};
constexpr std::size_t kPayload = 16;  // the echo's data: the send time, to tell stale replies

std::uint16_t checksum(const unsigned char* data, std::size_t length) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < length; i += 2) sum += static_cast<std::uint32_t>(data[i] << 8 | data[i + 1]);
  if (length % 2 == 1) sum += static_cast<std::uint32_t>(data[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::string privilege_advice(const ProbeTarget& target) {
  std::string with_port = std::string(to_string(target.side)) + ":";
  if (!target.name.empty()) with_port = target.name + "=" + with_port;
  with_port += target.address.family() == AF_INET6 ? "[" + target.address.text() + "]:443"
                                                   : target.address.text() + ":443";
  return fmt::format(
      "probe target {} ({}): neither an ICMP ping socket nor a raw socket is allowed; allow ping "
      "sockets with `sysctl net.ipv4.ping_group_range=\"0 2147483647\"`, or run ctmon with "
      "CAP_NET_RAW, or give the target a port for TCP connect timing ({})",
      target_label(target), target.spec, with_port);
}

}  // namespace

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::kPingSocket: return "icmp";
    case Transport::kRawSocket: return "icmp-raw";
    case Transport::kTcp: return "tcp";
  }
  return "?";
}

// One target: its socket(s), its schedule, its outstanding probes and its statistics.
class ProbeInput::Target {
 public:
  Target(ProbeTarget target, int per_interval, double interval_s, std::size_t index,
         std::size_t count, std::int64_t now_mono_ns)
      : target_(std::move(target)), label_(target_label(target_)) {
    open_transport();
    schedule(per_interval, interval_s, index, count, now_mono_ns);
    for (int m = 0; m < kMetricCount; ++m) names_[m] = probe_counter_name(target_.side, target_.name, kMetrics[m]);
    std::random_device random;
    echo_id_ = static_cast<std::uint16_t>(random());
  }

  void schedule(int per_interval, double interval_s, std::size_t index, std::size_t count,
                std::int64_t now_mono_ns) {
    const auto interval_ns = static_cast<std::int64_t>(interval_s * kSecond_ns);
    period_ns_ = std::max<std::int64_t>(interval_ns / per_interval, 1'000'000);
    timeout_ns_ = std::min(kSecond_ns, interval_ns);
    // Targets share the period evenly: target i starts i/count of a period later.
    next_send_ns_ = now_mono_ns + period_ns_ * static_cast<std::int64_t>(index) /
                                      static_cast<std::int64_t>(std::max<std::size_t>(count, 1));
  }

  [[nodiscard]] std::int64_t want(std::vector<pollfd>& fds) const {
    std::int64_t due = next_send_ns_;
    if (icmp_fd_) fds.push_back(pollfd{icmp_fd_->get(), POLLIN, 0});
    for (const Outstanding& probe : outstanding_) {
      due = std::min(due, probe.sent_ns + timeout_ns_);
      if (probe.tcp_fd) fds.push_back(pollfd{probe.tcp_fd->get(), POLLOUT, 0});
    }
    return due;
  }

  void pump(std::int64_t now, const io::LogSink& log) {
    if (icmp_fd_) read_replies(now);
    if (transport_ == Transport::kTcp) check_connects(now);
    expire(now, log);
    if (now >= next_send_ns_) {
      send(now, log);
      // Never a burst: slots missed while the loop was busy are skipped, not caught up.
      next_send_ns_ += period_ns_;
      if (next_send_ns_ <= now) next_send_ns_ += ((now - next_send_ns_) / period_ns_ + 1) * period_ns_;
    }
  }

  void add_totals(Sample& sample, CounterCatalog& catalog) {
    if (!stats_.interval_rtts_us().empty()) {
      std::vector<std::uint64_t> rtts = stats_.interval_rtts_us();
      last_median_us_ = median_of(rtts);
      last_max_us_ = *std::max_element(rtts.begin(), rtts.end());
      have_last_median_ = true;
    }
    stats_.close_interval();
    const ProbeTotals& t = stats_.totals();
    if (t.jitter_pairs > pairs_at_last_)
      last_jitter_us_ = static_cast<double>(t.jitter_us_sum - jitter_sum_at_last_) /
                        static_cast<double>(t.jitter_pairs - pairs_at_last_);
    pairs_at_last_ = t.jitter_pairs;
    jitter_sum_at_last_ = t.jitter_us_sum;
    const std::uint64_t counts[kMetricCount] = {t.rtt_intervals, t.rtt_intervals, t.rtt_intervals,
                                                t.jitter_pairs, t.resolved};
    const std::uint64_t sums[kMetricCount] = {t.rtt_min_us_sum, t.rtt_median_us_sum,
                                              t.rtt_max_us_sum, t.jitter_us_sum, t.lost};
    for (int m = 0; m < kMetricCount; ++m) {
      if (ids_[m] == kUnknown) ids_[m] = catalog.intern(names_[m]);
      if (sample.counters.size() <= ids_[m]) sample.counters.resize(ids_[m] + 1);
      sample.counters[ids_[m]] = CounterTotals{counts[m], sums[m], true};
    }
    loss_window_ = {t.resolved - resolved_at_last_, t.lost - lost_at_last_};
    resolved_at_last_ = t.resolved;
    lost_at_last_ = t.lost;
  }

  [[nodiscard]] status::ProbeStatus status() const {
    status::ProbeStatus s;
    s.target = label_;
    s.address = target_.address.text();
    if (target_.address.port != 0 && transport_ == Transport::kTcp)
      s.address = target_.address.family() == AF_INET6
                      ? fmt::format("[{}]:{}", s.address, target_.address.port)
                      : fmt::format("{}:{}", s.address, target_.address.port);
    s.transport = std::string(to_string(transport_));
    s.median_rtt_ms = have_last_median_ ? static_cast<double>(last_median_us_) / 1000 : -1;
    s.max_rtt_ms = have_last_median_ ? static_cast<double>(last_max_us_) / 1000 : -1;
    s.jitter_ms = last_jitter_us_ < 0 ? -1 : last_jitter_us_ / 1000;
    s.loss = loss_window_.first == 0 ? 0
                                     : static_cast<double>(loss_window_.second) /
                                           static_cast<double>(loss_window_.first);
    s.sent = sent_;
    s.state = unreachable_.active() ? "unreachable" : sent_ == 0 ? "starting" : "ok";
    return s;
  }

 private:
  static constexpr CounterId kUnknown = ~CounterId{0};

  struct Outstanding {
    std::uint64_t probe = 0;
    std::uint16_t seq = 0;
    std::int64_t sent_ns = 0;
    std::unique_ptr<OwnedFd> tcp_fd;  // TCP only: the connecting socket
  };

  void open_transport() {
    const int family = target_.address.family();
    const int protocol = family == AF_INET ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    transport_ = Transport::kPingSocket;
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
      fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
      transport_ = Transport::kRawSocket;
    }
    if (fd < 0) {
      if (errno != EACCES && errno != EPERM)
        throw UserError(fmt::format("probe target {} ({}): cannot open an ICMP socket: {}", label_,
                                    target_.spec, std::strerror(errno)));
      if (target_.address.port == 0) throw UserError(privilege_advice(target_));
      transport_ = Transport::kTcp;
      return;
    }
    icmp_fd_ = std::make_unique<OwnedFd>(fd);
    if (transport_ == Transport::kRawSocket) {
      // Only echo replies wake the loop (the kernel filters; a raw socket sees all ICMP).
      if (family == AF_INET) {
        icmp_filter filter{~(1U << ICMP_ECHOREPLY)};
        (void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter);
      } else {
        icmp6_filter filter{};
        ICMP6_FILTER_SETBLOCKALL(&filter);
        ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
        (void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
      }
    }
    // Connected: the kernel delivers replies from the target only.
    sockaddr_storage peer = target_.address.storage;
    if (family == AF_INET) reinterpret_cast<sockaddr_in&>(peer).sin_port = 0;
    else reinterpret_cast<sockaddr_in6&>(peer).sin6_port = 0;
    connected_ = ::connect(fd, reinterpret_cast<const sockaddr*>(&peer), target_.address.length) == 0;
  }

  void send(std::int64_t now, const io::LogSink& log) {
    const std::uint64_t probe = next_probe_++;
    const auto seq = static_cast<std::uint16_t>(probe);
    ++sent_;
    Outstanding out{probe, seq, now, nullptr};
    int error = 0;
    if (transport_ == Transport::kTcp) {
      OwnedFd fd(::socket(target_.address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (fd.get() < 0) {
        error = errno;
      } else if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target_.address.storage),
                           target_.address.length) != 0 && errno != EINPROGRESS) {
        error = errno;
        if (error == ECONNREFUSED) {  // answered at once (a local RST)
          stats_.on_reply(probe, ctmon::now_mono_ns() - now);
          note_reachable(log);
          return;
        }
      } else {
        out.tcp_fd = std::make_unique<OwnedFd>(fd.release());
      }
    } else {
      unsigned char packet[8 + kPayload] = {};
      packet[0] = target_.address.family() == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
      packet[4] = static_cast<unsigned char>(echo_id_ >> 8);
      packet[5] = static_cast<unsigned char>(echo_id_);
      packet[6] = static_cast<unsigned char>(seq >> 8);
      packet[7] = static_cast<unsigned char>(seq);
      std::memcpy(packet + 8, &now, sizeof now);
      // The kernel fills the checksum for ping sockets and ICMPv6; a raw IPv4 socket does not.
      if (transport_ == Transport::kRawSocket && target_.address.family() == AF_INET) {
        const std::uint16_t sum = checksum(packet, sizeof packet);
        packet[2] = static_cast<unsigned char>(sum >> 8);
        packet[3] = static_cast<unsigned char>(sum);
      }
      const ssize_t sent = connected_
          ? ::send(icmp_fd_->get(), packet, sizeof packet, MSG_DONTWAIT)
          : ::sendto(icmp_fd_->get(), packet, sizeof packet, MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&target_.address.storage), target_.address.length);
      if (sent < 0) error = errno;
    }
    // A probe that could not leave is lost like one without an answer: it times out.
    if (error != 0 && unreachable_.enter(error))
      log(io::Severity::kWarning,
          fmt::format("probe {} {}: {} (counted as loss until it answers)", label_,
                      target_.address.text(), std::strerror(error)));
    outstanding_.push_back(std::move(out));
  }

  void read_replies(std::int64_t now) {
    unsigned char buffer[1500];
    for (int i = 0; i < 64; ++i) {  // bounded: a flood cannot hold the loop
      const ssize_t got = ::recv(icmp_fd_->get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (got < 0) return;
      const unsigned char* icmp = buffer;
      std::size_t length = static_cast<std::size_t>(got);
      if (transport_ == Transport::kRawSocket && target_.address.family() == AF_INET) {
        if (length < 20) continue;
        const std::size_t header = static_cast<std::size_t>(buffer[0] & 0x0f) * 4;
        if (length < header) continue;
        icmp += header;
        length -= header;
      }
      if (length < 8) continue;
      const int reply_type = target_.address.family() == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
      if (icmp[0] != reply_type) continue;
      const auto id = static_cast<std::uint16_t>(icmp[4] << 8 | icmp[5]);
      if (transport_ == Transport::kRawSocket && id != echo_id_) continue;  // another pinger's
      const auto seq = static_cast<std::uint16_t>(icmp[6] << 8 | icmp[7]);
      answered(seq, now);
    }
  }

  void check_connects(std::int64_t now) {
    for (auto it = outstanding_.begin(); it != outstanding_.end();) {
      pollfd p{it->tcp_fd ? it->tcp_fd->get() : -1, POLLOUT, 0};
      if (p.fd >= 0 && ::poll(&p, 1, 0) == 1) {
        int error = 0;
        socklen_t size = sizeof error;
        (void)getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error == 0 || error == ECONNREFUSED) {  // a SYN-ACK or a RST: it answered
          stats_.on_reply(it->probe, now - it->sent_ns);
          reachable_now_ = true;
          it = outstanding_.erase(it);
          continue;
        }
        it->tcp_fd.reset();  // unreachable: it times out as lost
      }
      ++it;
    }
  }

  void answered(std::uint16_t seq, std::int64_t now) {
    const auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                                 [seq](const Outstanding& o) { return o.seq == seq; });
    if (it == outstanding_.end()) return;  // late (already counted lost) or not ours
    stats_.on_reply(it->probe, now - it->sent_ns);
    reachable_now_ = true;
    outstanding_.erase(it);
  }

  void expire(std::int64_t now, const io::LogSink& log) {
    if (reachable_now_) note_reachable(log);
    while (!outstanding_.empty() && now - outstanding_.front().sent_ns >= timeout_ns_) {
      stats_.on_timeout(outstanding_.front().probe);
      outstanding_.erase(outstanding_.begin());
      ++lost_in_row_;
    }
    // Unreachable once 2 s of probes (3 at least) went unanswered in a row: said once, not per
    // probe, and random loss (30 % loses 10 in a row once in 170,000) does not flap it.
    const std::uint64_t enough = std::max<std::uint64_t>(3, static_cast<std::uint64_t>(2 * kSecond_ns / period_ns_));
    if (lost_in_row_ >= enough && unreachable_.enter(0))
      log(io::Severity::kWarning,
          fmt::format("probe {} {}: no answer (counted as loss until it answers)", label_,
                      target_.address.text()));
  }

  void note_reachable(const io::LogSink& log) {
    reachable_now_ = false;
    lost_in_row_ = 0;
    if (unreachable_.clear())
      log(io::Severity::kInfo, fmt::format("probe {} {}: answering again", label_, target_.address.text()));
  }

  ProbeTarget target_;
  std::string label_;
  Transport transport_ = Transport::kPingSocket;
  std::unique_ptr<OwnedFd> icmp_fd_;
  bool connected_ = false;
  std::uint16_t echo_id_ = 0;
  std::int64_t period_ns_ = kSecond_ns;
  std::int64_t timeout_ns_ = kSecond_ns;
  std::int64_t next_send_ns_ = 0;
  std::uint64_t next_probe_ = 0;
  std::uint64_t sent_ = 0;
  std::vector<Outstanding> outstanding_;  // in send order
  ProbeStats stats_;
  std::string names_[kMetricCount];
  CounterId ids_[kMetricCount] = {kUnknown, kUnknown, kUnknown, kUnknown, kUnknown};
  ConditionLog<int> unreachable_;  // errno of a failed send, or 0: no answer
  bool reachable_now_ = false;
  std::uint64_t lost_in_row_ = 0;
  std::uint64_t last_median_us_ = 0;
  std::uint64_t last_max_us_ = 0;
  double last_jitter_us_ = -1;
  std::uint64_t pairs_at_last_ = 0;
  std::uint64_t jitter_sum_at_last_ = 0;
  bool have_last_median_ = false;
  std::pair<std::uint64_t, std::uint64_t> loss_window_{0, 0};  // resolved, lost in the last interval
  std::uint64_t resolved_at_last_ = 0;
  std::uint64_t lost_at_last_ = 0;
};

ProbeInput::ProbeInput(std::vector<ProbeTarget> targets, int per_interval, double interval_s,
                       io::LogSink log, std::int64_t now_mono_ns)
    : log_(std::move(log)) {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const bool automatic = targets[i].spec == "auto";
    try {
      targets_.push_back(std::make_unique<Target>(std::move(targets[i]), per_interval, interval_s,
                                                  i, targets.size(), now_mono_ns));
    } catch (const UserError& e) {
      // A target the user named must work; one `auto` found is skipped, so that the default
      // never stops a daemon that was fine without probes.
      if (!automatic) throw;
      if (log_) log_(io::Severity::kWarning, fmt::format("{}; skipped", e.what()));
    }
  }
  per_interval_ = per_interval;
  for (const auto& target : targets_) {
    const status::ProbeStatus s = target->status();
    if (log_) log_(io::Severity::kInfo, fmt::format("probing {} {} over {}, {} per interval", s.target, s.address, s.transport, per_interval));
  }
}

ProbeInput::~ProbeInput() = default;

std::int64_t ProbeInput::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  (void)now_mono_ns;
  std::int64_t due = io::kNever;
  for (const auto& target : targets_) due = std::min(due, target->want(fds));
  return due;
}

void ProbeInput::pump(std::int64_t now_mono_ns, CounterCatalog& catalog, io::SampleSink& sink) {
  (void)catalog, (void)sink;
  for (const auto& target : targets_) target->pump(now_mono_ns, log_);
}

void ProbeInput::add_totals(Sample& sample, CounterCatalog& catalog, std::int64_t now_mono_ns) {
  (void)now_mono_ns;
  for (const auto& target : targets_) target->add_totals(sample, catalog);
}

void ProbeInput::report(status::DaemonStatus& status) const {
  for (const auto& target : targets_) status.probes.push_back(target->status());
}

void ProbeInput::reload(const Config& fresh) {
  const std::int64_t now = ctmon::now_mono_ns();
  for (std::size_t i = 0; i < targets_.size(); ++i)
    targets_[i]->schedule(per_interval_, fresh.interval_s, i, targets_.size(), now);
}

std::unique_ptr<io::Input> make_probe_input(const Config& config, const io::LogSink& log,
                                            std::int64_t now_mono_ns) {
  const ProbePlan plan = parse_probe_plan(config.probe.targets);
  if (plan.off) return nullptr;
  std::vector<ProbeTarget> targets = plan.targets;
  const auto has = [&targets](ProbeSide side) {
    return std::any_of(targets.begin(), targets.end(),
                       [side](const ProbeTarget& t) { return t.side == side && t.name.empty(); });
  };
  if (plan.automatic) {
    const DefaultTargets found = find_default_targets();
    const std::string why = found.error.empty() ? "" : " (" + found.error + ")";
    if (!has(ProbeSide::wan)) {
      if (found.wan)
        targets.push_back(*found.wan);
      else if (log)
        log(io::Severity::kInfo, fmt::format("probe auto: no default gateway found{}; name the WAN "
                                             "target with --probe wan:ADDR ([probe] targets)", why));
    }
    if (!has(ProbeSide::lan)) {
      if (found.lan)
        targets.push_back(*found.lan);
      else if (log)
        log(io::Severity::kInfo, fmt::format("probe auto: no LAN address of this router found{}; "
                                             "name the LAN target with --probe lan:ADDR", why));
    }
  }
  if (targets.empty()) return nullptr;
  int per_interval = 5;
  (void)std::from_chars(config.probe.per_interval.data(),
                        config.probe.per_interval.data() + config.probe.per_interval.size(), per_interval);
  auto input = std::make_unique<ProbeInput>(std::move(targets), per_interval, config.interval_s, log,
                                            now_mono_ns);
  if (input->target_count() == 0) return nullptr;
  return input;
}

}  // namespace ctmon::probe

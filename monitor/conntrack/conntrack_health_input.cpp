#include "monitor/conntrack/conntrack_health_input.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/core.h>

#include "monitor/clock.h"

namespace ctmon::conntrack {
namespace {

// The kernel answers within the system calls; this only bounds a kernel that does not.
constexpr std::int64_t kReadBudget_ns = 50'000'000;
// After a failure that will not pass by itself (no permission, no ctnetlink): how long until
// the next try. A minute: a module loaded by hand is noticed soon, and a refusal costs nothing.
constexpr std::int64_t kRetry_ns = 60'000'000'000;
constexpr std::string_view kRetryText = "asking again every minute";

// The statistics stored as counters: `found` and `insert` count the normal case and say nothing
// about trouble, so they would cost a column each for nothing.
constexpr std::array kStored = {Stat::invalid,    Stat::insert_failed,  Stat::drop,
                                Stat::early_drop, Stat::error,          Stat::search_restart,
                                Stat::clash_resolve, Stat::chain_toolong};

bool passes_by_itself(int error) {
  return error == ETIMEDOUT || error == EINTR || error == ENOBUFS || error == EAGAIN || error == ESRCH;
}

bool no_ctnetlink(int error) {
  // nfnetlink answers EINVAL for a subsystem it has no module for; the others are what older
  // kernels and a kernel without nfnetlink say.
  return error == EINVAL || error == EOPNOTSUPP || error == ENOENT || error == EPROTONOSUPPORT;
}

std::string state_name(int error) {
  if (error == EPERM || error == EACCES) return "no permission";
  if (no_ctnetlink(error)) return "no ctnetlink";
  if (error == ETIMEDOUT) return "no answer";
  return "error";
}

std::string failure_line(int error) {
  if (error == EPERM || error == EACCES)
    return fmt::format("conntrack health: the kernel refuses the conntrack statistics ({}): "
                       "ctnetlink needs CAP_NET_ADMIN; run ctmon as root or with that capability, or "
                       "set conntrack_health = false (--no-conntrack-health); {}",
                       std::strerror(error), kRetryText);
  if (no_ctnetlink(error))
    return fmt::format("conntrack health: the kernel has no conntrack netlink interface ({}): "
                       "'modprobe nf_conntrack_netlink' (OpenWrt: install kmod-nf-conntrack-netlink), "
                       "or set conntrack_health = false (--no-conntrack-health); {}",
                       std::strerror(error), kRetryText);
  if (error == ETIMEDOUT)
    return fmt::format("conntrack health: the kernel did not answer within {} ms; asking again at the "
                       "next sample", kReadBudget_ns / 1'000'000);
  return fmt::format("conntrack health: reading the conntrack statistics failed: {}; {}", std::strerror(error),
                     passes_by_itself(error) ? "asking again at the next sample" : kRetryText);
}

void set(Sample& sample, CounterId id, std::uint64_t packets, std::uint64_t bytes) {
  if (sample.counters.size() <= id) sample.counters.resize(id + 1U);
  sample.counters[id] = {packets, bytes, true};
}

void absent(Sample& sample, const std::optional<CounterId>& id) {
  if (id && *id < sample.counters.size()) sample.counters[*id].present = false;
}

}  // namespace

ConntrackHealthInput::ConntrackHealthInput(io::LogSink log)
    : ConntrackHealthInput(std::move(log), [reader = std::make_shared<ConntrackReader>()](
                                               ConntrackStats& out, std::int64_t budget_ns) {
        return reader->read(out, budget_ns);
      }) {}

ConntrackHealthInput::ConntrackHealthInput(io::LogSink log, ReadFunction read)
    : log_(std::move(log)), read_(std::move(read)) {}

void ConntrackHealthInput::pump(std::int64_t, CounterCatalog&, io::SampleSink&) {}

void ConntrackHealthInput::add_totals(Sample& sample, CounterCatalog& catalog, std::int64_t now_ns) {
  if (now_ns >= next_try_ns_)
    read(now_ns);
  else
    last_ok_ = false;  // waiting to try again: nothing is known of this moment
  put(sample, catalog);
}

void ConntrackHealthInput::read(std::int64_t now_ns) {
  const std::int64_t start = now_mono_ns();
  last_.clear();
  const int error = read_(last_, kReadBudget_ns);
  if (error != 0) {
    on_failure(error, now_ns);
    return;
  }
  read_ns_total_ += now_mono_ns() - start;
  ++readings_;
  last_ok_ = true;
  next_try_ns_ = 0;
  if (last_.entries) entries_ = {entries_.readings + 1, entries_.sum + *last_.entries};
  if (last_.limit) limit_ = {limit_.readings + 1, limit_.sum + *last_.limit};
  stats_.add(last_);
  if (!drops_at_start_)
    drops_at_start_ = stats_.total(Stat::drop).value_or(0) + stats_.total(Stat::early_drop).value_or(0);
  if (trouble_.clear() && log_)
    log_(io::Severity::kInfo, fmt::format("conntrack health: reading the conntrack statistics again ({} entries)",
                                          last_.entries ? std::to_string(*last_.entries) : "unknown"));
}

void ConntrackHealthInput::on_failure(int error, std::int64_t now_ns) {
  ++failures_;
  last_ok_ = false;
  next_try_ns_ = passes_by_itself(error) ? 0 : now_ns + kRetry_ns;
  if (trouble_.enter(error) && log_)
    log_(passes_by_itself(error) ? io::Severity::kWarning : io::Severity::kError, failure_line(error));
}

void ConntrackHealthInput::put(Sample& sample, CounterCatalog& catalog) {
  if (!last_ok_) {
    absent(sample, entries_id_);
    absent(sample, limit_id_);
    for (const auto& id : stat_ids_) absent(sample, id);
    return;
  }
  // A value the kernel stopped reporting (never in practice) is absent too.
  if (last_.entries) {
    if (!entries_id_) entries_id_ = catalog.intern("conntrack_entries");
    set(sample, *entries_id_, entries_.readings, entries_.sum);
  } else {
    absent(sample, entries_id_);
  }
  if (last_.limit) {
    if (!limit_id_) limit_id_ = catalog.intern("conntrack_limit");
    set(sample, *limit_id_, limit_.readings, limit_.sum);
  } else {
    absent(sample, limit_id_);
  }
  for (const Stat stat : kStored) {
    std::optional<CounterId>& id = stat_ids_[static_cast<std::size_t>(stat)];
    const std::optional<std::uint64_t> total = stats_.total(stat);
    if (!total || !last_.sum(stat)) {
      absent(sample, id);
      continue;
    }
    if (!id) id = catalog.intern("conntrack_stat_" + std::string(to_string(stat)));
    set(sample, *id, *total, 0);
  }
}

void ConntrackHealthInput::report(status::DaemonStatus& status) const {
  status::ConntrackStatus s;
  if (trouble_.active()) {
    s.state = state_name(*trouble_.current());
    s.detail = failure_line(*trouble_.current());
  } else if (readings_ > 0) {
    s.state = "ok";
  }
  if (readings_ > 0) {
    s.entries = last_.entries;
    s.limit = last_.limit;
  }
  if (drops_at_start_)
    s.drops = stats_.total(Stat::drop).value_or(0) + stats_.total(Stat::early_drop).value_or(0) - *drops_at_start_;
  s.readings = readings_;
  s.failures = failures_;
  s.read_us = readings_ == 0 ? 0 : static_cast<double>(read_ns_total_) / static_cast<double>(readings_) / 1000.0;
  status.conntrack = std::move(s);
}

std::unique_ptr<ConntrackHealthInput> make_input(const Config& config, io::LogSink log) {
  if (!config.conntrack_health) return nullptr;
  return std::make_unique<ConntrackHealthInput>(std::move(log));
}

}  // namespace ctmon::conntrack

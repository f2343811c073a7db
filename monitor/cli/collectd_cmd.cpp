// ctmon collectd: a drop-in for the collectd Exec script (seed-collectd-exec.sh), printing the
// same PUTVAL lines byte for byte, read over netlink instead of `sudo nft list counters | awk`.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/table_option.h"
#include "monitor/daemon/schedule.h"
#include "monitor/nft/counter_reader.h"
#include "monitor/nft/nft_error.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

struct CollectdOptions {
  std::string table;
  std::optional<std::string> interval;
  std::optional<std::string> host;
  bool loop = false;
};

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

double parse_interval_s(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double seconds = std::strtod(text.c_str(), &end);
  if (errno != 0 || end == text.c_str() || *end != '\0' || !std::isfinite(seconds) ||
      seconds < 0.001 || seconds > 86400)
    throw UserError(fmt::format(
        "interval '{}' is not a number of seconds between 0.001 and 86400 (collectd sets "
        "COLLECTD_INTERVAL like 30.000)",
        text));
  return seconds;
}

// Writes one interval's lines in a single fwrite: collectd reads whole lines, and a reader never
// sees half a reading.
// Returns false when the reader is gone (stdout closed).
bool emit(std::string& out, const std::vector<nft::CounterReading>& readings,
          const std::string& host, const std::string& table, const std::string& interval) {
  out.clear();
  for (const auto& r : readings)
    fmt::format_to(std::back_inserter(out),
                   "PUTVAL \"{}/nftables-{}/packets-{}\" interval={} N:{}\n", host, table,
                   r.name, interval, r.packets);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 && std::ferror(stdout) == 0;
}

void sleep_until(std::int64_t deadline_ns) {
  const timespec at{static_cast<time_t>(deadline_ns / 1'000'000'000),
                    static_cast<long>(deadline_ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}


void run_collectd(const CollectdOptions& options) {
  const nft::TableRef table = nft::parse_table_ref(options.table);
  const std::string host = options.host.value_or(env_or("COLLECTD_HOSTNAME", "localhost"));
  // Printed exactly as collectd handed it over ("30.000"), as the seed script does.
  const std::string interval = options.interval.value_or(env_or("COLLECTD_INTERVAL", "60"));
  const double interval_s = parse_interval_s(interval);

  nft::CounterReader reader(table);
  std::vector<nft::CounterReading> readings;
  std::string out;
  if (!options.loop) {
    reader.read(readings);
    if (!emit(out, readings, host, table.name(), interval))
      throw UserError("cannot write to standard output (closed?)");
    return;
  }

  // collectd logs each stderr line as an error: say a problem once when it starts and once when
  // it is over, not every interval.
  std::string last_error;
  TickSchedule schedule(now_mono_ns(), std::llround(interval_s * 1e9));
  // collectd stops its Exec programs with SIGTERM, but not when it is killed itself: an orphaned
  // loop would sample forever for nobody, so it ends when its parent does.
  const pid_t parent = getppid();
  for (;;) {
    if (getppid() != parent) return;
    try {
      reader.read(readings);
      if (!last_error.empty()) fmt::print(stderr, "ctmon: counters readable again\n");
      last_error.clear();
      if (!emit(out, readings, host, table.name(), interval)) return;  // collectd went away
    } catch (const nft::NftError& e) {
      if (e.what() != last_error) fmt::print(stderr, "ctmon: {}\n", e.what());
      last_error = e.what();
    }
    const TickSchedule::Next next = schedule.advance(now_mono_ns());
    if (next.missed > 0)
      fmt::print(stderr, "ctmon: reading the counters took longer than the interval; {} "
                         "interval(s) skipped\n", next.missed);
    sleep_until(next.deadline_ns);
  }
}

}  // namespace

void add_collectd_command(CLI::App& app) {
  auto options = std::make_shared<CollectdOptions>();
  CLI::App* command = app.add_subcommand(
      "collectd",
      "Print the counters as collectd PUTVAL lines, for collectd's Exec plugin.\n"
      "A drop-in for the 'nft list counters | awk' script, byte for byte:\n"
      "  PUTVAL \"<host>/nftables-<table>/packets-<counter>\" interval=<s> N:<packets>\n"
      "Host and interval come from COLLECTD_HOSTNAME and COLLECTD_INTERVAL, which collectd\n"
      "sets. With --loop ctmon stays running and prints every interval (what the Exec plugin\n"
      "prefers: no fork per interval). collectd never runs Exec programs as root; give the\n"
      "binary CAP_NET_ADMIN instead of a sudoers line (README: 'collectd').");
  add_table_option(command, options->table);
  command->add_flag("--loop", options->loop,
                    "keep running and print every interval, flushing after each one");
  command->add_option("--interval", options->interval,
                      "seconds between readings with --loop (default: COLLECTD_INTERVAL, else 60)");
  command->add_option("--host", options->host,
                      "host part of the identifier (default: COLLECTD_HOSTNAME, else localhost)");
  command->callback([options] { run_collectd(*options); });
}

}  // namespace ctmon::cli

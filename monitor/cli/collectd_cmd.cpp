// ctmon collectd: a drop-in for the collectd Exec script (seed-collectd-exec.sh), printing the
// same PUTVAL lines byte for byte, read over netlink instead of `sudo nft list counters | awk`;
// with --db, also the daemon's episodes as PUTNOTIF lines (collectd_notify.h).
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "monitor/clock.h"
#include "monitor/cli/collectd_notify.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/table_option.h"
#include "monitor/daemon/schedule.h"
#include "monitor/io/condition_log.h"
#include "monitor/nft/counter_reader.h"
#include "monitor/nft/nft_error.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

struct CollectdOptions {
  std::string table;
  std::optional<std::string> interval;
  std::optional<std::string> host;
  std::optional<std::string> db;
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

void append_putvals(std::string& out, const std::vector<nft::CounterReading>& readings,
                    const std::string& host, const std::string& table, const std::string& interval) {
  for (const auto& r : readings)
    fmt::format_to(std::back_inserter(out),
                   "PUTVAL \"{}/nftables-{}/packets-{}\" interval={} N:{}\n", host, table,
                   r.name, interval, r.packets);
}

// Writes one interval's lines in a single fwrite: collectd reads whole lines, and a reader never
// sees half a reading. Returns false when the reader is gone (stdout closed).
bool write_out(const std::string& out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 && std::ferror(stdout) == 0;
}

// The daemon's database, read for episodes. It may not exist yet or not be readable by
// collectd's user: said once on stderr (collectd logs it), retried every interval, and the
// counters go on regardless.
class EpisodeSource {
 public:
  explicit EpisodeSource(std::string path) : path_(std::move(path)) {}

  void append_putnotifs(std::string& out, const std::string& host, const std::string& table) {
    try {
      // `ctmon run --reset-db`, or a database written back after its deletion, puts a new file
      // at the path; the open connection would watch the old one forever.
      if (open_ && open_->db.moved()) open_.reset();
      if (!open_) open_ = std::make_unique<Open>(path_);
      for (const EpisodeTransition& change : open_->watch.poll()) out += putnotif_line(change, host, table);
      if (trouble_.clear()) fmt::print(stderr, "ctmon: episodes readable again from {}\n", path_);
    } catch (const std::exception& e) {  // UserError from opening, store::SqliteError from reading
      if (trouble_.enter(e.what()))
        fmt::print(stderr, "ctmon: cannot read episodes from {} ({}); the counters go on, retrying every "
                           "interval\n",
                   path_, e.what());
    }
  }

 private:
  // The watch refers to the store, the store to the connection: built and dropped together.
  struct Open {
    explicit Open(const std::string& path) : db(store::Database::open(path, store::reader_options())) {}
    store::Database db;
    store::EventStore events{db};
    EpisodeWatch watch{events};
  };

  std::string path_;
  std::unique_ptr<Open> open_;
  ConditionLog<std::string> trouble_;
};

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
    if (options.db) throw UserError("--db needs --loop: episodes are announced as they begin and end");
    reader.read(readings);
    append_putvals(out, readings, host, table.name(), interval);
    if (!write_out(out)) throw UserError("cannot write to standard output (closed?)");
    return;
  }
  std::optional<EpisodeSource> episodes;
  if (options.db) episodes.emplace(*options.db);

  // collectd logs each stderr line as an error: say a problem once when it starts and once when
  // it is over, not every interval.
  ConditionLog<std::string> reading_trouble;
  TickSchedule schedule(now_mono_ns(), std::llround(interval_s * 1e9));
  // collectd stops its Exec programs with SIGTERM, but not when it is killed itself: an orphaned
  // loop would sample forever for nobody, so it ends when its parent does.
  const pid_t parent = getppid();
  for (;;) {
    if (getppid() != parent) return;
    out.clear();
    try {
      reader.read(readings);
      if (reading_trouble.clear()) fmt::print(stderr, "ctmon: counters readable again\n");
      append_putvals(out, readings, host, table.name(), interval);
    } catch (const nft::NftError& e) {
      if (reading_trouble.enter(e.what())) fmt::print(stderr, "ctmon: {}\n", e.what());
    }
    if (episodes) episodes->append_putnotifs(out, host, table.name());
    if (!out.empty() && !write_out(out)) return;  // collectd went away
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
      "binary CAP_NET_ADMIN instead of a sudoers line (README: 'collectd').\n"
      "With --loop --db, each episode the daemon records there also becomes a collectd\n"
      "notification: PUTNOTIF severity=warning when it begins, okay when it ends.");
  add_table_option(command, options->table);
  command->add_flag("--loop", options->loop,
                    "keep running and print every interval, flushing after each one");
  command->add_option("--interval", options->interval,
                      "seconds between readings with --loop (default: COLLECTD_INTERVAL, else 60)");
  command->add_option("--host", options->host,
                      "host part of the identifier (default: COLLECTD_HOSTNAME, else localhost)");
  command->add_option("--db", options->db,
                      "with --loop: the daemon's database; its episodes become PUTNOTIF lines (collectd's\n"
                      "user must be able to read it: run the Exec program in the database's group)")
      ->type_name("PATH");
  command->callback([options] { run_collectd(*options); });
}

}  // namespace ctmon::cli

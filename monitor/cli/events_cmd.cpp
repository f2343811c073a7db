// ctmon events: the episodes, newest first, one line each, or events JSON lines (--json) for
// scripts. The first thing to type when a call stuttered: "what happened at 20:14?".
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/event_table.h"
#include "monitor/cli/sampling_facts.h"
#include "monitor/cli/terminal.h"
#include "monitor/cli/time_arg.h"
#include "monitor/clock.h"
#include "monitor/events/events_json.h"
#include "monitor/status/status_socket.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

// One screen on a router's SSH session; --limit or --since shows more.
constexpr std::size_t kDefaultTableRows = 20;

struct EventsOptions {
  std::optional<std::string> since, until, kind;
  std::optional<double> min_score;
  std::optional<std::size_t> limit;
  bool open = false;
  bool json = false;
};


// "2h" -> "in the last 2h"; any other form -> "since 2026-11-20 00:00:00".
std::string describe_window(const EventsOptions& o, std::int64_t since_ns, std::int64_t until_ns) {
  std::string text;
  if (!o.since) {
    text = "recorded";
  } else if (o.since->find_first_of(":- ") == std::string::npos && o.since->size() > 1 &&
             std::isdigit(static_cast<unsigned char>(o.since->front())) != 0) {
    text = "in the last " + *o.since;
  } else {
    text = "since " + format_local_time(since_ns);
  }
  if (o.until) text += " until " + format_local_time(until_ns);
  if (o.kind) text += " of kind " + *o.kind;
  if (o.min_score) text += fmt::format(" scoring {:g} or more", *o.min_score);
  if (o.open) text += " still open";
  return text;
}

// The answer when nothing matched: say what was searched and that sampling works (or not).
std::string no_episodes_message(const EventsOptions& o, std::int64_t since_ns, std::int64_t until_ns,
                                store::Database& db, const Config& config) {
  const std::optional<status::DaemonStatus> daemon =
      status_for_db(status::contact_daemon(config.status_file, status::kCourtesyTimeout_ms).status, config.db);
  const SamplingFacts facts = sampling_facts(db, daemon);
  const std::string what = "No episodes " + describe_window(o, since_ns, until_ns);
  // A running daemon keeps its first samples in RAM until a commit, and learns before it
  // detects: both are normal, and the answer says so instead of asking whether it runs.
  const std::string learning =
      daemon && daemon->learning_until_wall_ns != 0
          ? fmt::format("; the detectors are learning this router's traffic until {}, no episodes before then",
                        format_local_time(daemon->learning_until_wall_ns, "%H:%M"))
          : "";
  if (!facts.first_sample_wall_ns && daemon && daemon->samples > 0)
    return what + fmt::format(" (the daemon has taken {} samples since {}, not yet committed to {}{}).",
                              daemon->samples, format_local_time(daemon->started_wall_ns), config.db, learning);
  if (!facts.first_sample_wall_ns)
    return what + fmt::format(", and no samples stored in {} yet: is the daemon running? "
                              "('ctmon status' tells)",
                              config.db);
  std::string how = facts.interval_s ? "sampling every " + format_interval(*facts.interval_s) : "sampling";
  return what + fmt::format(" ({} since {}{}).", how, format_local_time(*facts.first_sample_wall_ns), learning);
}

void run_events(const Config& config, const EventsOptions& o) {
  const std::int64_t now = now_wall_ns();
  store::EventFilter filter;
  std::int64_t since = std::numeric_limits<std::int64_t>::min();
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  if (o.since) filter.since_wall_ns = since = parse_time_arg("--since", *o.since, now);
  if (o.until) filter.until_wall_ns = until = parse_time_arg("--until", *o.until, now);
  if (o.since && o.until && since >= until)
    throw UserError(fmt::format("--since {} is not before --until {}: swap them", *o.since, *o.until));
  filter.kind = o.kind;
  filter.min_score = o.min_score;
  filter.open_only = o.open;
  // The table shows a screenful unless told otherwise; scripts (--json) get everything asked for.
  const std::size_t shown = o.limit ? *o.limit : o.json ? std::numeric_limits<std::size_t>::max() : kDefaultTableRows;

  store::Database db = store::Database::open(config.db, store::reader_options());
  try {
    const std::vector<store::EventRecord> events = store::EventStore(db).list(filter);
    const std::size_t count = std::min(shown, events.size());
    if (o.json) {
      std::string out;
      for (std::size_t i = 0; i < count; ++i) out += events::event_record_json_line(events[i]) + '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
      return;
    }
    const Terminal term = detect_terminal();
    if (events.empty()) {
      fmt::print("{}\n", fit_width(no_episodes_message(o, since, until, db, config), 1000, term.utf8));
      return;
    }
    std::string out = event_table_header(term) + '\n';
    for (std::size_t i = 0; i < count; ++i) out += event_line(events[i], term) + '\n';
    if (count < events.size())
      out += fmt::format("({} older not shown: --limit {} or --since for more)\n", events.size() - count,
                         events.size());
    std::fwrite(out.data(), 1, out.size(), stdout);
  } catch (const store::SqliteError& e) {
    store::rethrow_as_user_error(config.db, e);
  }
}

}  // namespace

void add_events_command(CLI::App& app) {
  auto options = std::make_shared<EventsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "events",
      "List the jitter episodes, newest first: id, local start, duration, kind, score, the counters\n"
      "that moved (peak against usual rate) and a summary. 'ctmon show ID' tells everything about one.\n"
      "Works while the daemon is writing.\n"
      "Example: ctmon events --since 20:00 --until 20:30");
  auto flags = std::make_shared<ConfigFlags>(cmd, ConfigScope::kDatabase);
  cmd->add_option("--since", options->since,
                  "episodes still running at or after: 2h, 3d, today, yesterday, 20:10, 2026-11-27T20:10:00Z");
  cmd->add_option("--until", options->until, "episodes that started before this time (same forms)");
  cmd->add_option("--kind", options->kind,
                  "only this kind: wan_drop, invalid_burst, scan, udp_storm, conntrack_full, unknown");
  cmd->add_option("--min-score", options->min_score, "only episodes that peaked at this score or more (0..1)")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            char* end = nullptr;
            const double score = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end != '\0' || !(score >= 0 && score <= 1))
              return fmt::format("expected a score from 0 to 1, like 0.8; got '{}'", text);
            return {};
          },
          "0..1"));
  cmd->add_option("--limit", options->limit,
                  fmt::format("at most this many (default {} in the table, all with --json)", kDefaultTableRows))
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const bool digits = !text.empty() && text.size() <= 9 &&
                                std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (!digits || std::stoul(text) == 0)
              return fmt::format("expected a whole number of episodes from 1 to 999999999; got '{}'", text);
            return {};
          },
          "N"));
  cmd->add_flag("--open", options->open, "only episodes still running");
  cmd->add_flag("--json", options->json,
                "one events JSON object per line (docs/events.md), as 'ctmon replay --json'");
  cmd->callback([flags, options] { run_events(flags->resolve(), *options); });
}

}  // namespace ctmon::cli

// ctmon correlate: over a period, how the counters' episodes and the probes' episodes line up,
// and which counters' rates rise with a probe target's jitter (and how many intervals ahead).
// The answer to "when my calls stutter, what else happens on the router?". The work is in
// correlate.cpp; this file holds the flags.
#include <cstdio>
#include <limits>
#include <memory>

#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/cli/correlate.h"
#include "monitor/cli/time_arg.h"
#include "monitor/clock.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

void run_correlate(const Config& config, const CorrelateOptions& o) {
  const std::int64_t now = now_wall_ns();
  // A day by default: the most that is correlated at once at 1 s sampling, and a day's traffic
  // shows its usual rhythm.
  const std::int64_t since = parse_time_arg("--since", o.since.value_or("24h"), now);
  const std::int64_t until =
      o.until ? parse_time_arg("--until", *o.until, now) : std::numeric_limits<std::int64_t>::max();
  if (since >= until)
    throw UserError(o.since ? fmt::format("--since {} is not before --until {}: swap them", *o.since, *o.until)
                            : fmt::format("--until {} is more than 24h ago: give --since too", *o.until));
  fmt::print("{}", correlate_report(config.db, since, until, o.json));
}

}  // namespace

void add_correlate_command(CLI::App& app) {
  auto options = std::make_shared<CorrelateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "correlate",
      "How counter episodes and probe episodes line up over a period, and which counters best\n"
      "predict probe jitter.\n"
      "Episodes are split by what moved: only counters, only probes, or both; for both, which\n"
      "moved first is read from the peak times in the episode's evidence (the earliest probe peak\n"
      "against the earliest counter peak), and the lag between them is given as median and range.\n"
      "The 'where' verdicts (isp, router, lan_device, unknown) are counted.\n"
      "Then, for each probe target's jitter, the counters whose rate per interval rank-correlates\n"
      "with the jitter 0 to 3 intervals later (Spearman rho, -1..1: +1 when they rise together,\n"
      "ties ranked fairly), at the lag where |rho| is largest; 'n too small' below 30 pairs.\n"
      "A correlation is a lead, not a proof: a storm of new connections and a slow WAN can both\n"
      "follow from the same cause. At most a day of 1 s samples is read at once.\n"
      "Needs probes (ctmon run --probe auto). Works while the daemon is writing.\n"
      "Example: ctmon correlate --since yesterday --until today");
  auto flags = std::make_shared<ConfigFlags>(cmd, ConfigScope::kDatabase);
  cmd->add_option("--since", options->since,
                  "from this time: 2h, 3d, today, yesterday, 20:10, 2026-11-27T20:10:00Z (default: 24h)");
  cmd->add_option("--until", options->until, "up to this time (same forms; default: now)");
  cmd->add_flag("--json", options->json, "one JSON object (README \"ctmon correlate\" lists the keys)");
  cmd->callback([flags, options] { run_correlate(flags->resolve(), *options); });
}

}  // namespace ctmon::cli

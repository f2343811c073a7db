// ctmon run: the daemon, in the foreground (systemd and procd supervise it; no forking).
#include <chrono>
#include <filesystem>

#include <fmt/core.h>

#include "monitor/cli/commands.h"
#include "monitor/cli/config_flags.h"
#include "monitor/daemon/daemon.h"
#include "monitor/store/database.h"
#include "monitor/user_error.h"

namespace ctmon::cli {
namespace {

struct RunOptions {
  bool reset_db = false;
  bool verbose = false;
};

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run",
      "Run the daemon in the foreground: sample the counters every --interval, keep them in\n"
      "the SQLite ring buffer, and record jitter episodes. Logs to stderr (or --syslog).\n"
      "SIGTERM/SIGINT save everything and exit 0; SIGHUP reloads the config file.\n"
      "Example: ctmon run --db /srv/ctmon.db --interval 1s");
  auto flags = std::make_shared<ConfigFlags>(run, ConfigScope::kAll);
  run->add_flag("--reset-db", options->reset_db,
                "first move the database (and its -wal/-shm) aside to <db>.reset-<time>; "
                "nothing is deleted");
  run->add_flag("-v,--verbose", options->verbose, "also log debug lines");
  run->callback([flags, options] {
    const Config config = flags->resolve();
    Logger log(config.syslog, options->verbose);
    // systemd's StateDirectory= makes /var/lib/ctmon; by hand, nobody has: make the folder.
    store::create_database_folder(config.db);
    if (options->reset_db)
      for (const auto& moved :
           store::reset_database(config.db, std::chrono::system_clock::now()))
        log.info("--reset-db: moved aside to {}", moved.string());
    const int status = run_daemon(config, [flags] { return flags->resolve(); }, log);
    if (status != 0) throw UserError("stopped without saving everything (see the log above)", status);
  });
}

}  // namespace ctmon::cli

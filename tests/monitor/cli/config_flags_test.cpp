#include "monitor/cli/config_flags.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/config/config_keys.h"
#include "monitor/user_error.h"

using namespace ctmon;
using namespace ctmon::cli;

namespace {

// Parses `args` as CLI11 would for a command with the flags of `scope`, then resolves them.
// --config /dev/null keeps the host's /etc/ctmon/ctmon.toml out of the result.
Config resolve(ConfigScope scope, std::vector<std::string> args) {
  CLI::App app{"test", "ctmon"};
  ConfigFlags flags(&app, scope);
  if (scope != ConfigScope::kExample) args.insert(args.begin(), {"--config", "/dev/null"});
  std::vector<const char*> argv{"ctmon"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return flags.resolve();
}

}  // namespace

TEST_CASE("every key is a flag of the commands that take them all") {
  CLI::App app{"test", "ctmon"};
  ConfigFlags flags(&app, ConfigScope::kAll);
  for (const ConfigKey& key : config_keys()) {
    INFO(key.name);
    CHECK(app.get_option_no_throw(key.flag()) != nullptr);
  }
  CLI::App readers{"test", "ctmon"};
  ConfigFlags reader_flags(&readers, ConfigScope::kDatabase);
  CHECK(readers.get_option_no_throw("--db") != nullptr);
  CHECK(readers.get_option_no_throw("--interval") == nullptr);
}

TEST_CASE("flags override the built-in defaults") {
  const Config config = resolve(ConfigScope::kAll,
                                {"--interval", "500ms", "--no-install-rules", "--syslog",
                                 "--influx-url", "http://127.0.0.1:8086", "--influx-heartbeat",
                                 "1h", "--influx-collectd-series", "--host", "r1"});
  CHECK(config.interval_s == Approx(0.5));
  CHECK_FALSE(config.install_rules);
  CHECK(config.syslog);
  CHECK(config.influx.url == "http://127.0.0.1:8086");
  CHECK(config.influx.heartbeat_s == 3600);
  CHECK(config.influx.collectd_series);
  CHECK(config.host == "r1");
  CHECK(config.retention_rollup_s == 30 * 86400);
}

TEST_CASE("every duration flag is range-checked and names the flag") {
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--retention-rollup", "1s"}),
                    Catch::StartsWith("--retention-rollup 1s is not allowed: a duration from 1h"));
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--influx-timeout", "0"}),
                    Catch::StartsWith("--influx-timeout 0 is not allowed"));
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--influx-pre-window", "7h"}),
                    Catch::StartsWith("--influx-pre-window 7h is not allowed"));
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--interval", "45s"}),
                    Catch::StartsWith("--interval 45s is not allowed: a duration from 50ms to 30s"));
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--interval", "fast"}),
                    Catch::StartsWith("--interval fast: not a duration"));
  CHECK_THROWS_WITH(resolve(ConfigScope::kAll, {"--influx-api", "v3"}),
                    Catch::StartsWith("--influx-api v3 is not allowed: \"v1\""));
}

TEST_CASE("a replay never takes the database from a config file") {
  CHECK(resolve(ConfigScope::kReplay, {}).db.empty());
  CHECK(resolve(ConfigScope::kReplay, {"--db", "/tmp/x.db"}).db == "/tmp/x.db");
}

TEST_CASE("an example starts from the built-in defaults, never from a file") {
  CLI::App app{"test", "ctmon"};
  ConfigFlags flags(&app, ConfigScope::kExample);
  CHECK(app.get_option_no_throw("--config") == nullptr);
  CHECK(resolve(ConfigScope::kExample, {"--db", "/etc/ctmon/ctmon.db"}).db ==
        "/etc/ctmon/ctmon.db");
}

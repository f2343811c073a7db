#include "monitor/config/config_keys.h"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace ctmon;

TEST_CASE("names derive from the key: flag with dashes, UCI option with underscores") {
  const ConfigKey* url = find_config_key("influx.url");
  REQUIRE(url != nullptr);
  CHECK(url->section() == "influx");
  CHECK(url->leaf() == "url");
  CHECK(url->flag() == "--influx-url");
  CHECK(url->uci_option() == "influx_url");
  CHECK(find_config_key("commit_interval")->flag() == "--commit-interval");
  // A bool flag moves away from the built-in default.
  CHECK(find_config_key("install_rules")->flag() == "--no-install-rules");
  CHECK(find_config_key("syslog")->flag() == "--syslog");
  CHECK(find_config_key("nonsense") == nullptr);
}

TEST_CASE("every key, flag and UCI option is unique, and every key has a help line") {
  std::set<std::string> names, flags, options{"enabled"};  // enabled: the init script's own
  for (const ConfigKey& key : config_keys()) {
    INFO(key.name);
    CHECK(names.emplace(key.name).second);
    CHECK(flags.emplace(key.flag()).second);
    CHECK(options.emplace(key.uci_option()).second);
    CHECK_FALSE(key.help.empty());
    CHECK((key.flag_scopes & kFlagOfRun) != 0);
    if (key.is_duration()) CHECK(key.min_s <= key.max_s);
    CHECK_FALSE(key.problem(Config{}));  // the built-in defaults are allowed
  }
  CHECK(names.size() == 46);
}

TEST_CASE("the reload table: what SIGHUP applies and what needs a restart") {
  const Config old;
  Config fresh = old;
  CHECK(keys_needing_restart(old, fresh).empty());
  CHECK(changed_keys(old, fresh).empty());
  fresh.interval_s = 1;
  fresh.table = "inet:x";
  fresh.syslog = true;
  CHECK(keys_needing_restart(old, fresh).empty());
  CHECK(changed_keys(old, fresh) == std::vector<std::string>{"table", "interval", "syslog"});
  fresh.db = "/elsewhere.db";
  fresh.influx.url = "http://192.0.2.1:8086";
  fresh.retention_rollup_s = 7200;
  CHECK(keys_needing_restart(old, fresh) ==
        std::vector<std::string>{"db", "retention_rollup", "influx.url"});
}

TEST_CASE("values print as TOML and as plain text") {
  Config config;
  config.host = "a \"b\"";
  CHECK(find_config_key("interval")->toml_value(config) == "'5s'");
  CHECK(find_config_key("interval")->text_value(config) == "5s");
  CHECK(find_config_key("host")->toml_value(config) == "'a \"b\"'");
  CHECK(find_config_key("install_rules")->toml_value(config) == "true");
  CHECK(find_config_key("influx.api")->allowed() ==
        "\"v1\" (InfluxDB 1.x /write) or \"v2\" (InfluxDB 2.x /api/v2/write)");
  config.influx.api = "v3";
  CHECK(find_config_key("influx.api")->problem(config));
}

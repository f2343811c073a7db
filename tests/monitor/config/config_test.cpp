#include "monitor/config/config.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "monitor/config/config_keys.h"
#include "monitor/user_error.h"

using namespace ctmon;

namespace {

// A config file in a fresh temporary directory, removed with the object.
struct TempConfig {
  std::string dir;
  std::string path;
  explicit TempConfig(const std::string& text) {
    char pattern[] = "/tmp/ctmon-config-XXXXXX";
    dir = mkdtemp(pattern);
    path = dir + "/ctmon.toml";
    std::ofstream(path) << text;
  }
  ~TempConfig() {
    std::remove(path.c_str());
    rmdir(dir.c_str());
  }
};

Config load(const std::string& text) {
  TempConfig file(text);
  Config config;
  load_config_file(config, file.path, true);
  return config;
}

}  // namespace

TEST_CASE("a config file overrides the defaults key by key") {
  const Config config = load(R"(
table = "inet:conntrack_stats"
interval = "2s"
commit_interval = 60
retention_raw = "24h"
install_rules = false
[influx]
url = "http://127.0.0.1:8086"
db = "routers"
heartbeat = "1h"
collectd_series = true
)");
  CHECK(config.table == "inet:conntrack_stats");
  CHECK(config.interval_s == 2);
  CHECK(config.commit_interval_s == 60);
  CHECK(config.retention_raw_s == 86400);
  CHECK(config.retention_rollup_s == 30 * 86400);  // untouched default
  CHECK_FALSE(config.install_rules);
  CHECK(config.influx.url == "http://127.0.0.1:8086");
  CHECK(config.influx.db == "routers");
  CHECK(config.influx.heartbeat_s == 3600);
  CHECK(config.influx.collectd_series);
  CHECK(config.influx.pre_window_s == 900);  // untouched default
}

TEST_CASE("an unknown key is an error naming the key, its line and the known keys") {
  CHECK_THROWS_WITH(load("interval = 5\nintervall = 5\n"),
                    Catch::Contains(":2: unknown key 'intervall'") &&
                        Catch::Contains("known keys: commit_interval, conntrack_health, db,"));
  CHECK_THROWS_WITH(load("[influx]\nurll = 'x'\n"), Catch::Contains("unknown key 'influx.urll'"));
}

TEST_CASE("a bad value is an error naming the key, the value and what is allowed") {
  CHECK_THROWS_WITH(load("interval = 45\n"),
                    Catch::Contains("interval = 45 is not allowed: a duration from 50ms to 30s"));
  CHECK_THROWS_WITH(load("interval = 'soon'\n"),
                    Catch::Contains("interval = 'soon' is not allowed"));
  CHECK_THROWS_WITH(load("install_rules = 'yes'\n"),
                    Catch::Contains("install_rules = 'yes' is not allowed: true or false"));
  CHECK_THROWS_WITH(load("db = 5\n"),
                    Catch::Contains("db = 5 is not allowed: a quoted string is expected"));
}

TEST_CASE("a syntax error points at the line and column") {
  CHECK_THROWS_WITH(load("interval = \n"), Catch::Contains(":1:12: not valid TOML"));
}

TEST_CASE("a missing default file is fine but a missing --config file is an error") {
  Config config;
  CHECK_NOTHROW(load_config_file(config, "/nonexistent/ctmon.toml", false));
  CHECK(config.source == "built-in defaults");
  CHECK_THROWS_WITH(load_config_file(config, "/nonexistent/ctmon.toml", true),
                    Catch::Contains("config file /nonexistent/ctmon.toml cannot be read"));
}

TEST_CASE("combinations that cannot work are refused") {
  Config config;
  config.commit_interval_s = 2;
  config.interval_s = 5;
  CHECK_THROWS_WITH(validate_config(config), Catch::Contains("shorter than interval"));
  config = Config{};
  config.influx.api = "v3";
  CHECK_THROWS_WITH(validate_config(config), Catch::Contains("influx.api = 'v3' is not allowed"));
}

TEST_CASE("the effective configuration prints as TOML that reads back the same") {
  Config config;
  config.table = "inet:x";
  config.interval_s = 0.2;
  config.influx.url = "http://[::1]:8086";
  config.host = "a \"quoted\" name";
  config.influx.user = "it'''s\tnew\nline";  // three quotes, a tab and a newline: one escaped line
  config.influx.org = "home\nnet";  // a newline and no quote: escaped too
  const Config back = load(config_to_toml(config));
  CHECK(back.table == config.table);
  CHECK(back.interval_s == Approx(0.2));
  CHECK(back.influx.url == config.influx.url);
  CHECK(back.host == config.host);
  CHECK(back.influx.user == config.influx.user);
  CHECK(back.influx.org == config.influx.org);
  CHECK(config_to_toml(back).substr(config_to_toml(back).find('\n')) ==
        config_to_toml(config).substr(config_to_toml(config).find('\n')));
}

TEST_CASE("a bad choice in the file names the file and the line") {
  CHECK_THROWS_WITH(load("[influx]\nurl = 'http://x'\napi = 'v3'\n"),
                    Catch::Contains(":3: influx.api = 'v3' is not allowed: \"v1\"") &&
                        Catch::Contains("or \"v2\""));
}

TEST_CASE("no duration key accepts nan, infinity or a negative number") {
  for (const ConfigKey& key : config_keys()) {
    if (!key.is_duration()) continue;
    for (const char* value : {"nan", "-nan", "inf", "-inf", "-1", "1e300"}) {
      const std::string line = std::string(key.leaf()) + " = " + value + "\n";
      const std::string text = key.section().empty()
                                   ? line
                                   : "[" + std::string(key.section()) + "]\n" + line;
      INFO(text);
      CHECK_THROWS_WITH(load(text), Catch::Contains(std::string(key.name) + " = ") &&
                                        Catch::Contains("is not allowed: a duration from"));
    }
    Config config;
    std::get<ConfigMember<double>>(key.member).of(config) = std::nan("");
    INFO(key.name);
    CHECK_THROWS_WITH(validate_config(config), Catch::Contains(std::string(key.name)));
  }
}

TEST_CASE("the printed configuration never shows the InfluxDB URL's credentials") {
  CHECK(redact_url("https://alice:s3cret@influx.example:8086/x?db=a") ==
        "https://***@influx.example:8086/x?db=a");
  CHECK(redact_url("http://alice@[::1]:8086") == "http://***@[::1]:8086");
  CHECK(redact_url("http://192.0.2.1:8086/?q=a@b") == "http://192.0.2.1:8086/?q=a@b");
  CHECK(redact_url("") == "");
  Config config;
  config.influx.url = "http://bob:pa55@192.0.2.10:8086";
  const std::string toml = config_to_toml(config);
  CHECK_THAT(toml, !Catch::Contains("pa55") && Catch::Contains("http://***@192.0.2.10:8086"));
  CHECK(redacted(config).influx.url == "http://***@192.0.2.10:8086");
}

TEST_CASE("the webhook's keys: a score and a list of kinds as TOML numbers and arrays") {
  const Config c = load("[notify]\nurl = 'https://ntfy.sh/t?auth=tk'\nmin_score = 0.6\n"
                        "kinds = ['wan_drop', 'conntrack_full']\nmin_gap = '15m'\non_close = true\n");
  CHECK(c.notify.url == "https://ntfy.sh/t?auth=tk");
  CHECK(c.notify.min_score == "0.6");
  CHECK(c.notify.kinds == "wan_drop,conntrack_full");
  CHECK(c.notify.min_gap_s == 900);
  CHECK(c.notify.on_close);
  CHECK(load("[notify]\nmin_score = 1\n").notify.min_score == "1");
  CHECK(redacted(c).notify.url == "https://ntfy.sh/t?***");
  CHECK_THAT(config_to_toml(c), !Catch::Contains("auth=tk"));
}

TEST_CASE("an InfluxDB URL that curl could not use is refused before the daemon starts") {
  CHECK_THROWS_WITH(load("[influx]\nurl = \"http://12\\n\"\n"), Catch::Contains("a control character"));
  CHECK_THROWS_WITH(load("[influx]\nurl = '127.0.0.1:8086'\n"),
                    Catch::Contains("not a URL; give an http:// or https:// URL, e.g. http://192.168.1.10:8086"));
  CHECK_THROWS_WITH(load("[influx]\nurl = 'udp://h:8089'\n"), Catch::Contains("influx.url"));
  CHECK_NOTHROW(load("[influx]\nurl = 'https://bob:pw@[::1]:8086'\n"));
  CHECK_NOTHROW(load("[influx]\nurl = ''\n"));
}

TEST_CASE("the webhook's keys refuse what cannot work, saying what is allowed") {
  CHECK_THROWS_WITH(load("[notify]\nurl = 'ftp://x/y'\n"), Catch::Contains("the scheme ftp:// is not supported"));
  CHECK_THROWS_WITH(load("[notify]\nurl = 'ntfy.sh/t'\n"), Catch::Contains("not a URL"));
  CHECK_THROWS_WITH(load("[notify]\nurl = 'https://user@:80/t'\n"), Catch::Contains("names no host"));
  CHECK_THROWS_WITH(load("[notify]\nurl = 'http://h/a b'\n"), Catch::Contains("a space"));
  CHECK_THROWS_WITH(load("[notify]\nmin_score = 1.5\n"), Catch::Contains("a score from 0 to 1"));
  CHECK_THROWS_WITH(load("[notify]\nmin_score = 'high'\n"), Catch::Contains("a score from 0 to 1"));
  CHECK_THROWS_WITH(load("[notify]\nkinds = 'scan,nope'\n"), Catch::Contains("'nope' is not an episode kind"));
  CHECK_THROWS_WITH(load("[notify]\nkinds = [1]\n"), Catch::Contains("a list of quoted strings"));
  CHECK_THROWS_WITH(load("[notify]\nformat = 'xml'\n"), Catch::Contains("notify.format"));
  CHECK_NOTHROW(load("[notify]\nurl = 'HTTP://[::1]:8080/hook'\nkinds = ''\n"));
}

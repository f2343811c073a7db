#include "monitor/notify/hook_env.h"

#include <algorithm>
#include <map>
#include <string>

#include <catch2/catch.hpp>

namespace ctmon::notify {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> out;
  for (const std::string& v : env) {
    const auto eq = v.find('=');
    REQUIRE(eq != std::string::npos);
    REQUIRE(out.count(v.substr(0, eq)) == 0);  // each variable once
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

nlohmann::json open_event() {
  return {{"id", 12},
          {"start", "2026-12-04T10:00:01Z"},
          {"end", nullptr},
          {"start_ts", 1796378401.0},
          {"end_ts", nullptr},
          {"score", 0.9},
          {"kind", "wan_drop"},
          {"where", "isp"},
          {"counters", nlohmann::json::array()},
          {"summary", "tcp_conntrack_fwd_new fell to 0/s"},
          {"detectors", {"point"}}};
}

TEST_CASE("the environment of an open episode") {
  const auto env = as_map(hook_environment(open_event(), EpisodeState::kOpen, "gw"));
  CHECK(env.size() == 11);
  CHECK(env.at("CTMON_STATE") == "open");
  CHECK(env.at("CTMON_ID") == "12");
  CHECK(env.at("CTMON_KIND") == "wan_drop");
  CHECK(env.at("CTMON_WHERE") == "isp");
  CHECK(env.at("CTMON_SCORE") == "0.900");
  CHECK(env.at("CTMON_START") == "2026-12-04T10:00:01Z");
  CHECK(env.at("CTMON_END").empty());
  CHECK(env.at("CTMON_SUMMARY") == "tcp_conntrack_fwd_new fell to 0/s");
  CHECK(env.at("CTMON_HOST") == "gw");
  CHECK(env.at("PATH") == std::string(kHookPath));
  CHECK(nlohmann::json::parse(env.at("CTMON_EVENT")) == open_event());
  CHECK(env.at("CTMON_EVENT").find('\n') == std::string::npos);
}

TEST_CASE("a closed episode has its end") {
  nlohmann::json event = open_event();
  event["end"] = "2026-12-04T10:00:31Z";
  event["end_ts"] = 1796378431.0;
  const auto env = as_map(hook_environment(event, EpisodeState::kClose, "gw"));
  CHECK(env.at("CTMON_STATE") == "close");
  CHECK(env.at("CTMON_END") == "2026-12-04T10:00:31Z");
}

TEST_CASE("hostile text stays one value: no NUL, no shell") {
  nlohmann::json event = open_event();
  event["summary"] = std::string("a$(reboot)\n`b`;c\0d", 19);
  const auto env = as_map(hook_environment(event, EpisodeState::kOpen, std::string("h\0x", 3)));
  CHECK(env.at("CTMON_SUMMARY") == "a$(reboot)\n`b`;cd");
  CHECK(env.at("CTMON_HOST") == "hx");
  // The JSON form escapes what the plain one carries as is.
  CHECK(env.at("CTMON_EVENT").find("\\u0000") != std::string::npos);
}

TEST_CASE("an event without a contract field is refused") {
  nlohmann::json event = open_event();
  event.erase("kind");
  CHECK_THROWS_AS(hook_environment(event, EpisodeState::kOpen, "gw"), nlohmann::json::exception);
}

}  // namespace
}  // namespace ctmon::notify

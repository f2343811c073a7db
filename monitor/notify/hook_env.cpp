#include "monitor/notify/hook_env.h"

#include <algorithm>

#include <fmt/core.h>

namespace ctmon::notify {
namespace {

std::string variable(std::string_view name, std::string value) {
  value.erase(std::remove(value.begin(), value.end(), '\0'), value.end());
  std::string out(name);
  out += '=';
  out += value;
  return out;
}

std::string text_of(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

}  // namespace

std::string_view to_string(EpisodeState state) { return state == EpisodeState::kOpen ? "open" : "close"; }

std::vector<std::string> hook_environment(const nlohmann::json& event, EpisodeState state, std::string_view host) {
  std::vector<std::string> env;
  env.push_back(variable("CTMON_STATE", std::string(to_string(state))));
  env.push_back(variable("CTMON_EVENT", event.dump()));
  env.push_back(variable("CTMON_ID", text_of(event.at("id"))));
  env.push_back(variable("CTMON_KIND", text_of(event.at("kind"))));
  env.push_back(variable("CTMON_WHERE", text_of(event.value("where", nlohmann::json("unknown")))));
  env.push_back(variable("CTMON_SCORE", fmt::format("{:.3f}", event.at("score").get<double>())));
  env.push_back(variable("CTMON_START", text_of(event.at("start"))));
  env.push_back(variable("CTMON_END", text_of(event.at("end"))));
  env.push_back(variable("CTMON_SUMMARY", text_of(event.at("summary"))));
  env.push_back(variable("CTMON_HOST", std::string(host)));
  env.push_back(variable("PATH", std::string(kHookPath)));
  return env;
}

}  // namespace ctmon::notify

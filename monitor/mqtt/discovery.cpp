#include "monitor/mqtt/discovery.h"

#include <cmath>

namespace ctmon::mqtt {
namespace {

constexpr std::size_t kMaxSegment = 64;

// The block every entity repeats: Home Assistant groups the entities by its identifiers.
nlohmann::json device_block(const Identity& id, std::string_view version) {
  return {{"identifiers", nlohmann::json::array({id.node})},
          {"name", "ctmon " + id.host},
          {"manufacturer", "ctmon"},
          {"model", "conntrack jitter monitor"},
          {"sw_version", std::string(version)}};
}

// What every entity's config has: its id, name, availability and device.
nlohmann::json entity(const Identity& id, std::string_view version, std::string_view object, std::string_view name) {
  return {{"unique_id", id.node + "_" + std::string(object)},
          {"name", std::string(name)},
          {"availability_topic", id.availability},
          {"payload_available", std::string(kOnline)},
          {"payload_not_available", std::string(kOffline)},
          {"device", device_block(id, version)}};
}

Message config_message(const Identity& id, std::string_view component, const nlohmann::json& config) {
  return {id.discovery_prefix + "/" + std::string(component) + "/" + config.at("unique_id").get<std::string>() +
              "/config",
          config.dump()};
}

}  // namespace

std::string topic_segment(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxSegment)) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-';
    out += keep ? c : '_';
  }
  return out.empty() ? "_" : out;
}

Identity make_identity(const MqttConfig& config, std::string_view host) {
  Identity id;
  id.host = std::string(host);
  const std::string segment = topic_segment(host);
  id.node = "ctmon_" + segment;
  id.client_id = config.client_id.empty() ? "ctmon-" + segment : config.client_id;
  id.discovery_prefix = config.discovery_prefix;
  id.base = config.base_topic.empty() ? "ctmon/" + segment : config.base_topic;
  id.availability = id.base + "/availability";
  id.episode = id.base + "/episode";
  id.episode_attributes = id.base + "/episode/attributes";
  id.last_episode = id.base + "/last_episode";
  id.rates = id.base + "/rates";
  return id;
}

std::optional<std::size_t> rate_sensor_of(std::string_view counter_name) {
  for (const std::string_view protocol : {"tcp_conntrack_fwd_", "udp_conntrack_fwd_"}) {
    if (!counter_name.starts_with(protocol)) continue;
    const std::string_view state = counter_name.substr(protocol.size());
    for (std::size_t i = 0; i < kRateSensors.size(); ++i)
      if (kRateSensors[i].state == state) return i;
  }
  return std::nullopt;
}

std::vector<Message> discovery_messages(const Identity& id, std::string_view version) {
  std::vector<Message> out;
  nlohmann::json episode = entity(id, version, "episode", "Jitter episode");
  episode["state_topic"] = id.episode;
  episode["payload_on"] = std::string(kEpisodeOn);
  episode["payload_off"] = std::string(kEpisodeOff);
  episode["device_class"] = "problem";
  episode["json_attributes_topic"] = id.episode_attributes;
  out.push_back(config_message(id, "binary_sensor", episode));

  struct LastEpisodeField {
    std::string_view key, name, icon;
  };
  for (const LastEpisodeField& f : {LastEpisodeField{"kind", "Last episode kind", "mdi:lan-disconnect"},
                                    LastEpisodeField{"where", "Last episode where", "mdi:map-marker-question"},
                                    LastEpisodeField{"score", "Last episode score", "mdi:gauge"}}) {
    nlohmann::json sensor = entity(id, version, "last_episode_" + std::string(f.key), f.name);
    sensor["state_topic"] = id.last_episode;
    sensor["value_template"] = "{{ value_json." + std::string(f.key) + " }}";
    sensor["icon"] = std::string(f.icon);
    if (f.key == "score") sensor["state_class"] = "measurement";
    out.push_back(config_message(id, "sensor", sensor));
  }
  for (const RateSensor& rate : kRateSensors) {
    nlohmann::json sensor = entity(id, version, rate.key, rate.name);
    sensor["state_topic"] = id.rates;
    sensor["value_template"] = "{{ value_json." + std::string(rate.key) + " }}";
    sensor["unit_of_measurement"] = "packets/s";
    sensor["state_class"] = "measurement";
    sensor["icon"] = "mdi:swap-horizontal";
    out.push_back(config_message(id, "sensor", sensor));
  }
  return out;
}

std::string last_episode_payload(const nlohmann::json& event) {
  const nlohmann::json j = {{"id", event.at("id")},        {"kind", event.at("kind")},
                            {"where", event.value("where", "unknown")},                 {"score", event.at("score")},
                            {"start", event.at("start")},  {"end", event.at("end")}};
  return j.dump();
}

std::string rates_payload(const std::array<std::optional<double>, kRateSensors.size()>& means) {
  nlohmann::json j = nlohmann::json::object();
  for (std::size_t i = 0; i < kRateSensors.size(); ++i) {
    const std::string key(kRateSensors[i].key);
    if (means[i] && std::isfinite(*means[i]))
      j[key] = std::round(*means[i] * 10.0) / 10.0;
    else
      j[key] = nullptr;
  }
  return j.dump();
}

}  // namespace ctmon::mqtt

#pragma once
// What ctmon publishes over MQTT, and under which topics: pure (no I/O, no libmosquitto), so
// every topic and payload is unit-tested. The output that sends them is mqtt_output.h.
//
// Topics (<base> is mqtt.base_topic, default ctmon/<host>); every message is QoS 1 and retained,
// so a Home Assistant that restarts, or subscribes late, reads the current state at once:
//   <base>/availability         "online", or "offline" (the broker publishes it as ctmon's last
//                               will when the connection dies without a goodbye)
//   <base>/episode              "ON" while an episode is open, else "OFF"
//   <base>/episode/attributes   the episode that state is about (the open one, else the last
//                               one), as `ctmon events --json` prints it (events_json.h)
//   <base>/last_episode         {"id", "kind", "where", "score", "start", "end"} of that episode;
//                               "where" is "" until ctmon knows where an episode happened (the
//                               key stays, so templates need not change then)
//   <base>/rates                {"fwd_new", "fwd_established", "fwd_invalid"}: packets per
//                               second forwarded through the router in those conntrack states,
//                               tcp and udp together, as the mean over mqtt.rates_interval
// Discovery (mqtt.discovery), one retained config per entity, all in one device:
//   <prefix>/binary_sensor/<node>_episode/config          "Jitter episode" (device_class problem)
//   <prefix>/sensor/<node>_last_episode_kind/config        the last episode's kind
//   <prefix>/sensor/<node>_last_episode_where/config       ... where
//   <prefix>/sensor/<node>_last_episode_score/config       ... peak score, 0 to 1
//   <prefix>/sensor/<node>_fwd_{new,established,invalid}/config   the rates, packets/s
// <node> is "ctmon_" + the host as one topic level; it is also each entity's unique_id prefix and
// the device's identifier, so a restart (or a new broker) finds the same entities in Home
// Assistant. The object id is the unique_id and there is no node_id level, as Home Assistant's
// discovery documentation recommends.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "monitor/config/config.h"

namespace ctmon::mqtt {

/// `text` as one topic level that is also a Home Assistant id: ASCII letters, digits, '_' and '-'
/// are kept, every other byte (a '/', '+', '#', a space, a byte of a UTF-8 character) becomes
/// '_'; at most 64 bytes; "_" for an empty text. No '/' survives, so no level can be injected.
[[nodiscard]] std::string topic_segment(std::string_view text);

/// Every name this router's messages use.
struct Identity {
  std::string host;              ///< as configured or the hostname, for people (the device name)
  std::string node;              ///< "ctmon_" + topic_segment(host)
  std::string client_id;         ///< mqtt.client_id, else "ctmon-" + topic_segment(host)
  std::string discovery_prefix;  ///< mqtt.discovery_prefix
  std::string base;              ///< mqtt.base_topic, else "ctmon/" + topic_segment(host)
  std::string availability;      ///< <base>/availability
  std::string episode;           ///< <base>/episode
  std::string episode_attributes;  ///< <base>/episode/attributes
  std::string last_episode;      ///< <base>/last_episode
  std::string rates;             ///< <base>/rates
};

/// The names for `config` (its mqtt.base_topic and mqtt.discovery_prefix already valid:
/// validate_config) on a router called `host`.
[[nodiscard]] Identity make_identity(const MqttConfig& config, std::string_view host);

inline constexpr std::string_view kOnline = "online";
inline constexpr std::string_view kOffline = "offline";
inline constexpr std::string_view kEpisodeOn = "ON";
inline constexpr std::string_view kEpisodeOff = "OFF";

/// One of the rates published on <base>/rates.
struct RateSensor {
  std::string_view key;    ///< in the rates JSON and the entity's id: "fwd_new"
  std::string_view state;  ///< the conntrack state in the counter names: "new"
  std::string_view name;   ///< in Home Assistant
};
inline constexpr std::array kRateSensors = {
    RateSensor{"fwd_new", "new", "Forwarded new"},
    RateSensor{"fwd_established", "established", "Forwarded established"},
    RateSensor{"fwd_invalid", "invalid", "Forwarded invalid"},
};

/// Which of kRateSensors the counter `name` adds to: tcp_conntrack_fwd_<state> and
/// udp_conntrack_fwd_<state> (the names of rules/conntrack-counter*.nft); nothing for others.
[[nodiscard]] std::optional<std::size_t> rate_sensor_of(std::string_view counter_name);

/// A message to publish (always QoS 1, retained).
struct Message {
  std::string topic;
  std::string payload;
  friend bool operator==(const Message&, const Message&) = default;
};

/// The discovery configs, one per entity; `version` goes into the device block.
[[nodiscard]] std::vector<Message> discovery_messages(const Identity& id, std::string_view version);

/// <base>/last_episode's payload for `event` (an events-contract object: events_json.h).
[[nodiscard]] std::string last_episode_payload(const nlohmann::json& event);

/// <base>/rates' payload: `means[i]` for kRateSensors[i], rounded to 0.1 packets/s; a sensor
/// with no value (no such counter in the table) is null, which Home Assistant shows as unknown.
[[nodiscard]] std::string rates_payload(const std::array<std::optional<double>, kRateSensors.size()>& means);

}  // namespace ctmon::mqtt

#include "monitor/mqtt/discovery.h"

#include <algorithm>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/events/events_json.h"
#include "monitor/user_error.h"

using namespace ctmon;
using namespace ctmon::mqtt;

namespace {

std::size_t levels(const std::string& topic) { return static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1; }

bool has_wildcard(const std::string& topic) { return topic.find_first_of("+#") != std::string::npos; }

}  // namespace

TEST_CASE("topic_segment keeps what Home Assistant ids allow and turns the rest into '_'") {
  CHECK(topic_segment("gw1") == "gw1");
  CHECK(topic_segment("Gw-1_a") == "Gw-1_a");
  CHECK(topic_segment("a/b+c#d e") == "a_b_c_d_e");
  CHECK(topic_segment("") == "_");
  CHECK(topic_segment("r\xc3\xa9seau") == "r__seau");  // the two bytes of the UTF-8 'e acute'
  CHECK(topic_segment("$SYS") == "_SYS");
  CHECK(topic_segment(std::string(100, 'x')).size() == 64);
}

TEST_CASE("a host name cannot inject levels or wildcards into any topic") {
  const Identity id = make_identity(MqttConfig{}, "evil/#/+/x");
  CHECK(id.base == "ctmon/evil_____x");
  CHECK(id.node == "ctmon_evil_____x");
  CHECK(id.client_id == "ctmon-evil_____x");
  for (const std::string* topic : {&id.availability, &id.episode, &id.last_episode, &id.rates}) {
    CHECK_FALSE(has_wildcard(*topic));
    CHECK(levels(*topic) == 3);
  }
  CHECK(levels(id.episode_attributes) == 4);
  for (const Message& m : discovery_messages(id, "0.1.0")) {
    CHECK_FALSE(has_wildcard(m.topic));
    CHECK(levels(m.topic) == 4);  // homeassistant/<component>/<unique_id>/config
  }
}

TEST_CASE("configured topics and client id are used as given") {
  MqttConfig config;
  config.base_topic = "home/router/ctmon";
  config.client_id = "my-router";
  config.discovery_prefix = "ha/discovery";
  const Identity id = make_identity(config, "gw1");
  CHECK(id.base == "home/router/ctmon");
  CHECK(id.availability == "home/router/ctmon/availability");
  CHECK(id.episode == "home/router/ctmon/episode");
  CHECK(id.episode_attributes == "home/router/ctmon/episode/attributes");
  CHECK(id.last_episode == "home/router/ctmon/last_episode");
  CHECK(id.rates == "home/router/ctmon/rates");
  CHECK(id.client_id == "my-router");
  CHECK(id.node == "ctmon_gw1");
  for (const Message& m : discovery_messages(id, "0.1.0")) CHECK(m.topic.starts_with("ha/discovery/"));
}

TEST_CASE("discovery: one device, stable unique ids, every entity pointing at its state topic") {
  const Identity id = make_identity(MqttConfig{}, "gw1");
  const std::vector<Message> messages = discovery_messages(id, "1.2.3");
  REQUIRE(messages.size() == 4 + kRateSensors.size());
  std::set<std::string> unique_ids;
  for (const Message& m : messages) {
    const nlohmann::json config = nlohmann::json::parse(m.payload);
    const std::string uid = config.at("unique_id");
    unique_ids.insert(uid);
    CHECK(uid.starts_with("ctmon_gw1_"));
    CHECK(m.topic.ends_with("/" + uid + "/config"));
    CHECK(config.at("availability_topic") == "ctmon/gw1/availability");
    CHECK(config.at("payload_available") == "online");
    CHECK(config.at("payload_not_available") == "offline");
    CHECK(config.at("device").at("identifiers") == nlohmann::json::array({"ctmon_gw1"}));
    CHECK(config.at("device").at("name") == "ctmon gw1");
    CHECK(config.at("device").at("sw_version") == "1.2.3");
    CHECK_FALSE(config.at("name").get<std::string>().empty());
  }
  CHECK(unique_ids.size() == messages.size());

  const Message& episode = messages.front();
  CHECK(episode.topic == "homeassistant/binary_sensor/ctmon_gw1_episode/config");
  const nlohmann::json e = nlohmann::json::parse(episode.payload);
  CHECK(e.at("name") == "Jitter episode");
  CHECK(e.at("state_topic") == "ctmon/gw1/episode");
  CHECK(e.at("payload_on") == "ON");
  CHECK(e.at("payload_off") == "OFF");
  CHECK(e.at("device_class") == "problem");
  CHECK(e.at("json_attributes_topic") == "ctmon/gw1/episode/attributes");

  const auto sensor = [&](const std::string& uid) {
    const auto it = std::find_if(messages.begin(), messages.end(), [&](const Message& m) {
      return m.topic == "homeassistant/sensor/" + uid + "/config";
    });
    REQUIRE(it != messages.end());
    return nlohmann::json::parse(it->payload);
  };
  for (const char* field : {"kind", "where", "score"}) {
    const nlohmann::json s = sensor(std::string("ctmon_gw1_last_episode_") + field);
    CHECK(s.at("state_topic") == "ctmon/gw1/last_episode");
    CHECK(s.at("value_template") == std::string("{{ value_json.") + field + " }}");
  }
  for (const RateSensor& rate : kRateSensors) {
    const nlohmann::json s = sensor("ctmon_gw1_" + std::string(rate.key));
    CHECK(s.at("state_topic") == "ctmon/gw1/rates");
    CHECK(s.at("unit_of_measurement") == "packets/s");
    CHECK(s.at("state_class") == "measurement");
  }
}

TEST_CASE("the rates are the forwarded tcp and udp counters of three states") {
  CHECK(rate_sensor_of("tcp_conntrack_fwd_new") == 0U);
  CHECK(rate_sensor_of("udp_conntrack_fwd_new") == 0U);
  CHECK(rate_sensor_of("tcp_conntrack_fwd_established") == 1U);
  CHECK(rate_sensor_of("udp_conntrack_fwd_invalid") == 2U);
  CHECK_FALSE(rate_sensor_of("tcp_conntrack_input_new"));
  CHECK_FALSE(rate_sensor_of("tcp_conntrack_fwd_related"));
  CHECK_FALSE(rate_sensor_of("icmp_conntrack_fwd_new"));
  CHECK_FALSE(rate_sensor_of("tcp_conntrack_fwd_new_extra"));
}

TEST_CASE("state payloads") {
  Episode episode;
  episode.id = 7;
  episode.start_wall_ns = 1'764'000'000'000'000'000;
  episode.open = true;
  episode.peak_score = 0.8765;
  episode.kind = EpisodeKind::wan_drop;
  const nlohmann::json last = nlohmann::json::parse(last_episode_payload(events::episode_to_json(episode)));
  CHECK(last.at("id") == 7);
  CHECK(last.at("kind") == "wan_drop");
  CHECK(last.at("where") == "unknown");  // no probe or conntrack evidence
  CHECK(last.at("score") == 0.877);
  CHECK(last.at("end").is_null());

  const nlohmann::json rates = nlohmann::json::parse(rates_payload({12.345, std::nullopt, 0.04}));
  CHECK(rates.at("fwd_new") == 12.3);
  CHECK(rates.at("fwd_established").is_null());
  CHECK(rates.at("fwd_invalid") == 0.0);
}

TEST_CASE("mqtt.url: mqtt://host[:port] and nothing else") {
  CHECK(parse_mqtt_url("mqtt://192.168.1.10").host == "192.168.1.10");
  CHECK(parse_mqtt_url("mqtt://192.168.1.10").port == 1883);
  CHECK(parse_mqtt_url("mqtt://broker.lan:1884/").port == 1884);
  CHECK(parse_mqtt_url("mqtt://[fd00::1]:8883").host == "fd00::1");
  CHECK(parse_mqtt_url("mqtt://[fd00::1]:8883").port == 8883);
  for (const char* bad : {"broker.lan", "http://broker", "mqtts://broker", "mqtt://", "mqtt://:1883",
                          "mqtt://user:pw@broker", "mqtt://broker:0", "mqtt://broker:65536", "mqtt://broker:x",
                          "mqtt://broker:", "mqtt://broker/topic", "mqtt://[fd00::1", "mqtt://bro ker"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_mqtt_url(bad), UserError);
  }
  try {
    (void)parse_mqtt_url("mqtt://user:secret@broker");
    FAIL("user info accepted");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("mqtt.password_file") != std::string::npos);
    CHECK(std::string(e.what()).find("secret") == std::string::npos);  // the error never shows it
  }
}

TEST_CASE("topic prefixes: no wildcards, no empty levels, nothing of the broker's") {
  CHECK(topic_prefix_problem("ctmon/gw1").empty());
  CHECK(topic_prefix_problem("homeassistant").empty());
  for (const char* bad : {"", "a/+/b", "a/#", "/a", "a/", "a//b", "$SYS/x"}) {
    INFO(bad);
    CHECK_FALSE(topic_prefix_problem(bad).empty());
  }
  CHECK_FALSE(topic_prefix_problem(std::string("a\0b", 3)).empty());
}

TEST_CASE("validate_config checks the [mqtt] table only when a broker is set") {
  Config config;
  config.mqtt.base_topic = "bad/#";
  CHECK_NOTHROW(validate_config(config));  // off: nothing of it is used
  config.mqtt.url = "mqtt://127.0.0.1";
  CHECK_THROWS_AS(validate_config(config), UserError);
  config.mqtt.base_topic.clear();
  CHECK_NOTHROW(validate_config(config));
  config.mqtt.discovery_prefix = "";
  CHECK_THROWS_AS(validate_config(config), UserError);
  config.mqtt.discovery_prefix = "homeassistant";
  config.mqtt.password_file = "/etc/ctmon/mqtt.pass";
  CHECK_THROWS_AS(validate_config(config), UserError);  // a password needs a user name
  config.mqtt.user = "ctmon";
  CHECK_NOTHROW(validate_config(config));
}

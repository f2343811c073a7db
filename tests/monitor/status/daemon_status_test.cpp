// The status codec: what the daemon writes is what every reader gets back, and a message that is
// not a status is refused with the key that is wrong.
#include <catch2/catch.hpp>

#include "monitor/status/daemon_status.h"
#include "monitor/status/status_socket.h"

using namespace ctmon;
using namespace ctmon::status;

namespace {

DaemonStatus sample_status() {
  DaemonStatus s;
  s.pid = 4242;
  s.started_wall_ns = 1'795'132'800'250'000'000;
  s.interval_s = 0.2;
  s.samples = 1234;
  s.episodes_opened = 3;
  s.open_episode = true;
  s.detector_us_per_sample = 2.5;
  s.source = {"ip:conntrack_stats", TableState::kUnreadable, "netlink: Device or resource busy", 18, 2,
              1'795'132'900'500'000'000};
  s.store = {"/var/lib/ctmon/ctmon.db", 300, 12, 1, store::CommitCondition::kDiskFull};
  s.influx = InfluxStatus{"unreachable", "no answer from http://192.0.2.1:8086/write", 812,
                          1'795'132'700'000'000'000, 4000, 120, 2};
  s.detector_s_total = 0.0031;
  s.learning_until_wall_ns = 1'795'133'400'000'000'000;
  s.source.read_s_total = 0.0125;
  s.prometheus = PrometheusStatus{"[fd00::1]:9101", 77, 1'795'132'850'000'000'000,
                                  "Server reached connection limit. Closing inbound connection.",
                                  1'795'132'840'000'000'000};
  return s;
}

}  // namespace

TEST_CASE("DaemonStatus: a round trip through JSON text keeps everything") {
  const DaemonStatus s = sample_status();
  const DaemonStatus back = daemon_status_from_json(nlohmann::json::parse(to_json(s).dump()));
  CHECK(back.pid == s.pid);
  CHECK(std::llabs(back.started_wall_ns - s.started_wall_ns) < 1000);
  CHECK(back.interval_s == s.interval_s);
  CHECK(back.samples == 1234);
  CHECK(back.open_episode);
  CHECK(back.source.table_state == TableState::kUnreadable);
  CHECK(back.source.table_error == "netlink: Device or resource busy");
  CHECK(back.source.counters == 18);
  CHECK(back.store.state == store::CommitCondition::kDiskFull);
  CHECK(back.store.samples_dropped == 1);
  REQUIRE(back.influx);
  CHECK(back.influx->state == "unreachable");
  CHECK(back.influx->queued == 812);
  CHECK(back.influx->rejected_lines == 2);
  CHECK(back.detector_s_total == s.detector_s_total);
  CHECK(std::llabs(back.learning_until_wall_ns - s.learning_until_wall_ns) < 1000);
  CHECK(back.source.read_s_total == s.source.read_s_total);
  REQUIRE(back.prometheus);
  CHECK(back.prometheus->listen == "[fd00::1]:9101");
  CHECK(back.prometheus->scrapes == 77);
  CHECK(std::llabs(back.prometheus->last_scrape_wall_ns - s.prometheus->last_scrape_wall_ns) < 1000);
  CHECK(back.prometheus->last_error == s.prometheus->last_error);
  CHECK(std::llabs(back.prometheus->last_error_wall_ns - s.prometheus->last_error_wall_ns) < 1000);
}

TEST_CASE("DaemonStatus: a daemon that does not say when it stops learning reads as detecting") {
  nlohmann::json j = to_json(sample_status());
  j.erase("learning_until_ts");
  CHECK(daemon_status_from_json(j).learning_until_wall_ns == 0);
  j["learning_until_ts"] = "soon";
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'learning_until_ts'"));
}

TEST_CASE("DaemonStatus: probe targets round-trip, and are absent when probing is off") {
  DaemonStatus s = sample_status();
  s.probes.push_back(ProbeStatus{"wan", "192.0.2.1", "icmp", "ok", 12.3, 30.5, 4.25, 0.2, 500});
  s.probes.push_back(ProbeStatus{"lan_nas", "[fd00::5]:445", "tcp", "unreachable", -1, -1, -1, 1, 40});
  const DaemonStatus back = daemon_status_from_json(nlohmann::json::parse(to_json(s).dump()));
  REQUIRE(back.probes.size() == 2);
  CHECK(back.probes[0].target == "wan");
  CHECK(back.probes[0].median_rtt_ms == Approx(12.3));
  CHECK(back.probes[0].loss == Approx(0.2));
  CHECK(back.probes[0].max_rtt_ms == Approx(30.5));
  CHECK(back.probes[0].jitter_ms == Approx(4.25));
  CHECK(back.probes[1].address == "[fd00::5]:445");
  CHECK(back.probes[1].transport == "tcp");
  CHECK(back.probes[1].state == "unreachable");
  CHECK(back.probes[1].sent == 40);
  CHECK_FALSE(to_json(sample_status()).contains("probes"));
  nlohmann::json broken = to_json(s);
  broken["probes"][0].erase("loss");
  CHECK_THROWS_WITH(daemon_status_from_json(broken), Catch::Contains("'loss'"));
}

TEST_CASE("DaemonStatus: the Prometheus entry is absent when the endpoint is off") {
  DaemonStatus s = sample_status();
  s.prometheus.reset();
  const nlohmann::json j = to_json(s);
  CHECK_FALSE(j.contains("prometheus"));
  CHECK_FALSE(daemon_status_from_json(j).prometheus.has_value());
  nlohmann::json broken = to_json(sample_status());
  broken["prometheus"].erase("scrapes");
  CHECK_THROWS_WITH(daemon_status_from_json(broken), Catch::Contains("'scrapes'"));
}

TEST_CASE("DaemonStatus: notifiers keep their target; one from a daemon that sent none reads") {
  DaemonStatus s = sample_status();
  NotifierStatus mqtt;
  mqtt.name = "mqtt";
  mqtt.target = "mqtt://192.168.1.10:1883";
  mqtt.state = "disconnected";
  mqtt.detail = "mqtt://192.168.1.10:1883: cannot connect: Connection refused";
  mqtt.queued = 4;
  mqtt.delivered = 17;
  mqtt.failed = 3;
  s.notifiers.push_back(mqtt);
  nlohmann::json j = to_json(s);
  const DaemonStatus back = daemon_status_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.notifiers.size() == 1);
  CHECK(back.notifiers[0].target == "mqtt://192.168.1.10:1883");
  CHECK(back.notifiers[0].state == "disconnected");
  CHECK(back.notifiers[0].delivered == 17);
  CHECK(back.notifiers[0].queued == 4);
  j["notify"][0].erase("target");
  CHECK(daemon_status_from_json(j).notifiers.at(0).target.empty());
  j["notify"][0]["target"] = 5;
  CHECK_THROWS_AS(daemon_status_from_json(j), StatusFormatError);
}

TEST_CASE("DaemonStatus: the wire keys readers and scripts rely on") {
  DaemonStatus s = sample_status();
  s.influx.reset();
  s.source.table_state = TableState::kMissing;
  const nlohmann::json j = to_json(s);
  CHECK(j.at("table_state") == "missing");
  s.source.table_state = TableState::kRulesMissing;
  CHECK(to_json(s).at("table_state") == "rules missing");
  CHECK(j.at("store_state") == "disk full");
  CHECK(j.at("last_sample_ts").get<double>() == Approx(1'795'132'900.5));
  CHECK_FALSE(j.contains("influx"));  // off: absent, not empty
  CHECK_FALSE(daemon_status_from_json(j).influx.has_value());
  for (const TableState state :
       {TableState::kOk, TableState::kMissing, TableState::kNoCounters, TableState::kRulesMissing}) {
    s.source.table_state = state;
    CHECK(daemon_status_from_json(to_json(s)).source.table_state == state);
  }
}

TEST_CASE("DaemonStatus: a missing or mistyped key is named") {
  nlohmann::json j = to_json(sample_status());
  j.erase("samples");
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'samples' is missing"));
  j = to_json(sample_status());
  j["pid"] = "4242";
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'pid' has the wrong type"));
  j = to_json(sample_status());
  j["table_state"] = "gone";
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("unknown value 'gone'"));
  j = to_json(sample_status());
  j["influx"].erase("queued");
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'queued' is missing"));
  CHECK_THROWS_AS(daemon_status_from_json(nlohmann::json::array()), StatusFormatError);
  // A newer daemon may add keys: they are ignored.
  j = to_json(sample_status());
  j["a_future_part"] = {{"state", "ok"}};
  CHECK(daemon_status_from_json(j).pid == 4242);
}

TEST_CASE("The socket sits next to the pid file") {
  CHECK(status_socket_path("/run/ctmon/ctmon.status") == "/run/ctmon/ctmon.sock");
  CHECK(status_socket_path("/tmp/x/daemon") == "/tmp/x/daemon.sock");
}

TEST_CASE("DaemonStatus: conntrack health round-trips, absent values as null, absent when off") {
  DaemonStatus s = sample_status();
  s.conntrack = ConntrackStatus{"ok", "", 1234, 65536, 3, 100, 1, 41.5};
  nlohmann::json j = to_json(s);
  CHECK(j.at("conntrack").at("limit") == 65536);
  DaemonStatus back = daemon_status_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.conntrack);
  CHECK(back.conntrack->state == "ok");
  CHECK(back.conntrack->entries == 1234u);
  CHECK(back.conntrack->limit == 65536u);
  CHECK(back.conntrack->drops == 3);
  CHECK(back.conntrack->readings == 100);
  CHECK(back.conntrack->failures == 1);
  CHECK(back.conntrack->read_us == 41.5);

  s.conntrack->limit.reset();  // a kernel before CTA_STATS_GLOBAL_MAX_ENTRIES
  j = to_json(s);
  CHECK(j.at("conntrack").at("limit").is_null());
  CHECK_FALSE(daemon_status_from_json(j).conntrack->limit.has_value());
  j["conntrack"]["entries"] = "many";
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'entries'"));
  j["conntrack"].erase("entries");
  CHECK_THROWS_WITH(daemon_status_from_json(j), Catch::Contains("'entries'"));

  s.conntrack.reset();
  CHECK_FALSE(to_json(s).contains("conntrack"));
  CHECK_FALSE(daemon_status_from_json(to_json(s)).conntrack.has_value());
}

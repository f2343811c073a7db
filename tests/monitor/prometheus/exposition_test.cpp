// The text GET /metrics answers: names and types by Prometheus' conventions, label values from
// the user and the kernel escaped, values that read back exactly.
#include "monitor/prometheus/exposition.h"

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

using namespace ctmon;
using namespace ctmon::prometheus;

namespace {

status::DaemonStatus daemon_status() {
  status::DaemonStatus s;
  s.started_wall_ns = 1'795'132'800'250'000'000;
  s.interval_s = 0.5;
  s.samples = 1234;
  s.open_episode = true;
  s.detector_s_total = 0.25;
  s.source.table = "inet:conntrack_stats";
  s.source.missed_ticks = 3;
  s.source.last_sample_wall_ns = 1'795'132'900'500'000'000;
  s.source.read_s_total = 0.5;
  s.store.samples_in_ram = 12;
  s.store.samples_dropped = 1;
  s.store.state = store::CommitCondition::kDiskFull;
  return s;
}

std::string render(const status::DaemonStatus& s, const std::vector<CounterValue>& counters = {},
                   const EpisodeCounts& episodes = {}) {
  return render_metrics({s, counters, episodes, "1.2.3"});
}

// metric line ("name{labels}" without the value) -> value
std::map<std::string, std::string> samples_of(const std::string& text) {
  std::map<std::string, std::string> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = line.substr(space + 1);
  }
  return samples;
}

}  // namespace

TEST_CASE("exposition: label values escape backslash, quote and line feed only") {
  CHECK(escape_label_value("tcp_conntrack_fwd_invalid") == "tcp_conntrack_fwd_invalid");
  CHECK(escape_label_value(R"(a\b"c)") == R"(a\\b\"c)");
  CHECK(escape_label_value("line\nnext") == "line\\nnext");
  CHECK(escape_label_value("zählér\t") == "zählér\t");
}

TEST_CASE("exposition: values read back exactly") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(18446744073709551615.0) == "1.8446744073709552e+19");
  CHECK(format_value(9007199254740992.0) == "9007199254740992");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(1795132900.5) == "1795132900.5");
  CHECK(format_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("exposition: every family has one HELP and one TYPE line, names by the conventions") {
  status::DaemonStatus s = daemon_status();
  s.influx = status::InfluxStatus{};
  s.notifiers.emplace_back().name = "exec";
  s.prometheus.emplace().scrapes = 5;
  const std::string text = render(s, {{"tcp_conntrack_fwd_new", {10, 600, true}},
                                      {"probe_wan_rtt_median_us", {4, 48'000, true}},
                                      {"probe_wan_loss", {20, 1, true}},
                                      {"probe_lan_nas_jitter_us", {3, 900, true}},
                                      {"conntrack_entries", {2, 300, true}},
                                      {"conntrack_stat_drop", {5, 0, true}}});
  CHECK(text.back() == '\n');

  const std::regex name_pattern("[a-zA-Z_:][a-zA-Z0-9_:]*");
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    INFO(line);
    if (line.starts_with("# HELP ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.insert(name).second);
    } else if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      CHECK(types.emplace(name, type).second);
      CHECK(helped.count(name) == 1);  // HELP first
      CHECK(name.starts_with("ctmon_"));
      CHECK(std::regex_match(name, name_pattern));
      if (type == "counter") CHECK(name.ends_with("_total"));
      if (type == "gauge") CHECK_FALSE(name.ends_with("_total"));
    } else {
      REQUIRE_FALSE(line.empty());
      std::string name = line.substr(0, line.find_first_of("{ "));
      // A summary's samples are its name with _sum and _count.
      for (const char* suffix : {"_sum", "_count"})
        if (!types.contains(name) && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
      CHECK(types.contains(name));
    }
  }
  CHECK(types.at("ctmon_conntrack_packets_total") == "counter");
  CHECK(types.at("ctmon_conntrack_bytes_total") == "counter");
  CHECK(types.at("ctmon_episode_open") == "gauge");
  CHECK(types.at("ctmon_episodes_total") == "counter");
  CHECK(types.at("ctmon_sample_duration_seconds") == "summary");
  CHECK(types.at("ctmon_influx_up") == "gauge");
  CHECK(types.at("ctmon_notifications_failed_total") == "counter");
  CHECK(types.at("ctmon_build_info") == "gauge");
  CHECK(types.at("ctmon_probe_rtt_median_seconds") == "summary");
  CHECK(types.at("ctmon_probe_lost_total") == "counter");
  CHECK(types.at("ctmon_conntrack_entries") == "summary");
  CHECK(types.at("ctmon_conntrack_stat_total") == "counter");
}

TEST_CASE("exposition: probes and the conntrack table's health are summaries and counters of their own") {
  const auto samples = samples_of(render(daemon_status(), {{"tcp_conntrack_fwd_new", {10, 600, true}},
                                                           {"probe_wan_rtt_median_us", {4, 48'000, true}},
                                                           {"probe_wan_loss", {20, 1, true}},
                                                           {"probe_lan_nas_jitter_us", {3, 900, true}},
                                                           {"conntrack_entries", {2, 300, true}},
                                                           {"conntrack_limit", {2, 131'072, true}},
                                                           {"conntrack_stat_early_drop", {5, 0, true}}}));
  CHECK(samples.at(R"(ctmon_probe_rtt_median_seconds_sum{side="wan",target="wan"})") == "0.048");
  CHECK(samples.at(R"(ctmon_probe_rtt_median_seconds_count{side="wan",target="wan"})") == "4");
  CHECK(samples.at(R"(ctmon_probe_jitter_seconds_sum{side="lan",target="nas"})") == "0.0009");
  CHECK(samples.at(R"(ctmon_probe_sent_total{side="wan",target="wan"})") == "20");
  CHECK(samples.at(R"(ctmon_probe_lost_total{side="wan",target="wan"})") == "1");
  CHECK(samples.at("ctmon_conntrack_entries_sum") == "300");
  CHECK(samples.at("ctmon_conntrack_limit_count") == "2");
  CHECK(samples.at(R"(ctmon_conntrack_stat_total{stat="early_drop"})") == "5");
  // Not mistaken for nftables counters.
  for (const auto& [metric, value] : samples)
    if (metric.starts_with("ctmon_conntrack_packets_total")) CHECK(metric.find("counter=\"tcp_conntrack_fwd_new\"") != std::string::npos);
}

TEST_CASE("exposition: the values are the daemon's") {
  EpisodeCounts episodes{};
  episodes[static_cast<std::size_t>(EpisodeKind::scan)] = 2;
  const auto samples = samples_of(render(daemon_status(),
                                         {{"tcp_conntrack_fwd_new", {10, 600, true}},
                                          {"udp_conntrack_input_invalid", {7, 4200, true}}},
                                         episodes));
  CHECK(samples.at(R"(ctmon_build_info{version="1.2.3"})") == "1");
  CHECK(samples.at(R"(ctmon_conntrack_packets_total{family="inet",table="conntrack_stats",counter="tcp_conntrack_fwd_new"})") == "10");
  CHECK(samples.at(R"(ctmon_conntrack_bytes_total{family="inet",table="conntrack_stats",counter="udp_conntrack_input_invalid"})") == "4200");
  CHECK(samples.at("ctmon_episode_open") == "1");
  CHECK(samples.at(R"(ctmon_episodes_total{kind="scan"})") == "2");
  CHECK(samples.at(R"(ctmon_episodes_total{kind="wan_drop"})") == "0");  // every kind, from the start
  CHECK(samples.at("ctmon_samples_total") == "1234");
  CHECK(samples.at("ctmon_missed_ticks_total") == "3");
  CHECK(samples.at("ctmon_sample_duration_seconds_sum") == "0.75");  // reading + detectors
  CHECK(samples.at("ctmon_sample_duration_seconds_count") == "1234");
  CHECK(samples.at("ctmon_last_sample_timestamp_seconds") == "1795132900.5");
  CHECK(samples.at(R"(ctmon_store_state{state="disk full"})") == "1");
  CHECK(samples.at(R"(ctmon_store_state{state="ok"})") == "0");
  CHECK(samples.at("ctmon_store_samples_in_ram") == "12");
  CHECK(samples.at("ctmon_store_samples_dropped_total") == "1");
  CHECK(samples.at("ctmon_table_ok") == "1");
}

TEST_CASE("exposition: a part that is off shows no metrics, not zeros") {
  const auto samples = samples_of(render(daemon_status()));
  for (const auto& [name, value] : samples) {
    CHECK_FALSE(name.starts_with("ctmon_influx_"));
    CHECK_FALSE(name.starts_with("ctmon_notifications_"));
    CHECK_FALSE(name.starts_with("ctmon_prometheus_"));
  }
  status::DaemonStatus s = daemon_status();
  s.influx.emplace();
  s.influx->state = "unreachable";
  s.influx->queued = 9;
  s.influx->sent_lines = 4;
  s.influx->rejected_lines = 1;
  const auto with_influx = samples_of(render(s));
  CHECK(with_influx.at("ctmon_influx_up") == "0");
  CHECK(with_influx.at("ctmon_influx_queued_lines") == "9");
  CHECK(with_influx.at("ctmon_influx_sent_lines_total") == "4");
  CHECK(with_influx.at("ctmon_influx_rejected_lines_total") == "1");
  s.influx->state = "idle";
  CHECK(samples_of(render(s)).at("ctmon_influx_up") == "1");
}

TEST_CASE("exposition: table and counter names are escaped in labels") {
  status::DaemonStatus s = daemon_status();
  s.source.table = R"(ip:we"ird\name)";
  const std::string text = render(s, {{"odd\"counter\nname", {1, 2, true}}});
  CHECK_THAT(text, Catch::Contains(R"(ctmon_conntrack_packets_total{family="ip",table="we\"ird\\name",counter="odd\"counter\nname"} 1)"));
}

// The forwarding windows, checked on a synthetic stream (pure planner), and the forwarder's use
// of a real outbox in a temporary database.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "core/time.h"
#include "monitor/influx/forwarder.h"
#include "monitor/store/database.h"
#include <cstdlib>
#include <filesystem>

using namespace ctmon;
using namespace ctmon::influx;

namespace {


// A fresh directory for one test, removed with its content at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctmon-influx-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path operator/(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};
constexpr std::int64_t kT0_s = 1'700'000'000;  // a multiple of 10: bucket boundaries are known

struct Parsed {
  std::string measurement;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> fields;
  std::int64_t time_ms = 0;
  store::OutboxClass cls;
};

// Enough of a line-protocol parser for the lines these tests produce (no escapes in names, no
// spaces or commas inside string fields).
Parsed parse(const store::OutboxLine& l) {
  Parsed p;
  p.cls = l.cls;
  const std::size_t s1 = l.line.find(' ');
  const std::size_t s2 = l.line.rfind(' ');
  std::stringstream head(l.line.substr(0, s1));
  std::string part;
  std::getline(head, p.measurement, ',');
  while (std::getline(head, part, ',')) p.tags[part.substr(0, part.find('='))] = part.substr(part.find('=') + 1);
  std::stringstream fields(l.line.substr(s1 + 1, s2 - s1 - 1));
  while (std::getline(fields, part, ',')) p.fields[part.substr(0, part.find('='))] = part.substr(part.find('=') + 1);
  p.time_ms = std::stoll(l.line.substr(s2 + 1));
  return p;
}

// Two counters, one sample per second; counter a counts 10 pps (100 pps while "spiking"),
// counter b 3 pps. The test decides when episodes open and close.
class Stream {
 public:
  explicit Stream(ForwarderConfig config, bool with_probe = false) : planner(std::move(config)) {
    a = catalog.intern("tcp_conntrack_fwd_new");
    b = catalog.intern("udp_conntrack_input_new");
    c = catalog.intern("tcp_conntrack_input_invalid");
    if (with_probe) probe = catalog.intern("probe_wan_jitter_us");
  }
  std::int64_t now_s() const { return kT0_s + t; }
  /// One sample; returns the lines it produced.
  std::vector<Parsed> next(EpisodeChange change = EpisodeChange::none, bool spiking = false) {
    ++t;
    const double pps_a = spiking ? 100 : 10;
    cum[0] += static_cast<std::uint64_t>(pps_a);
    cum[1] += 3;
    cum[2] += 1;
    Sample s;
    s.wall_ns = s.mono_ns = now_s() * kNsPerS;
    for (const std::uint64_t v : cum) s.counters.push_back({v, v * 60, true});
    StepResult r;
    r.counter_pps = {pps_a, 3.0, 1.0};
    if (probe) {  // a mean counter: one jitter observation of 4 ms a second
      s.counters.push_back({static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(t) * 4000, true});
      r.counter_pps.push_back(4000.0);
    }
    r.change = change;
    r.episode = change == EpisodeChange::none ? nullptr : &episode;
    std::vector<store::OutboxLine> out;
    planner.step(s, r, catalog, out);
    std::vector<Parsed> parsed;
    for (const auto& l : out) parsed.push_back(parse(l));
    all.insert(all.end(), parsed.begin(), parsed.end());
    return parsed;
  }
  void run_quiet(int n) {
    for (int i = 0; i < n; ++i) next();
  }

  ForwardPlanner planner;
  CounterCatalog catalog;
  CounterId a = 0, b = 0, c = 0;
  std::optional<CounterId> probe;
  std::uint64_t cum[3] = {0, 0, 0};
  std::int64_t t = 0;
  Episode episode;
  std::vector<Parsed> all;
};

ForwarderConfig config() {
  ForwarderConfig c;
  c.host = "gw";
  return c;
}

std::vector<Parsed> of(const std::vector<Parsed>& lines, std::string_view measurement, std::string_view counter = "") {
  std::vector<Parsed> out;
  for (const auto& p : lines)
    if (p.measurement == measurement && (counter.empty() || p.tags.at("counter") == counter)) out.push_back(p);
  return out;
}

std::int64_t packets(const Parsed& p) { return std::stoll(p.fields.at("packets")); }

// Prepares an episode on counter a that the next sample opens, its run `lead_s` samples long.
void open_episode(Stream& s, int lead_s) {
  s.episode = Episode{};
  s.episode.id = 7;
  s.episode.start_wall_ns = (s.now_s() + 2 - lead_s) * kNsPerS;  // the next sample is now_s() + 1
  s.episode.peak_score = 0.9;
  s.episode.kind = EpisodeKind::scan;
  s.episode.summary = "tcp new up";
  s.episode.counters = {MovedCounter{s.a, "tcp_conntrack_fwd_new", 100, 10, 0.9, 9, 0}};
}

}  // namespace

TEST_CASE("a probe's values go out as values in their unit, never as a packet rate") {
  ForwarderConfig conf = config();
  conf.collectd_compat = true;
  Stream s(conf, /*with_probe=*/true);
  s.run_quiet(1200);
  open_episode(s, 3);
  (void)s.next(EpisodeChange::opened, true);
  s.run_quiet(30);
  const auto values = of(s.all, "ctmon_value", "probe_wan_jitter_us");
  REQUIRE_FALSE(values.empty());
  for (const Parsed& p : values) {
    CHECK(p.tags == std::map<std::string, std::string>{{"host", "gw"}, {"counter", "probe_wan_jitter_us"}});
    CHECK(std::stod(p.fields.at("value")) == Approx(4000.0));  // µs, as the name says
    CHECK(p.fields.count("pps") == 0);
  }
  CHECK(of(s.all, "ctmon_rate", "probe_wan_jitter_us").empty());
  for (const Parsed& p : of(s.all, "nftables")) CHECK(p.tags.at("type_instance") != "probe_wan_jitter_us");
}

TEST_CASE("a quiet stream sends nothing without the heartbeat") {
  Stream s(config());
  s.run_quiet(7200);
  CHECK(s.all.empty());
  CHECK(s.planner.ring_samples() <= 15 * 60 + 10 + 1);  // the pre-window plus one bucket
}

TEST_CASE("an episode sends its marker, a downsampled pre-window, full resolution, a post-window") {
  Stream s(config());
  s.run_quiet(1200);
  open_episode(s, 3);
  const std::int64_t start_s = s.episode.start_wall_ns / kNsPerS;
  const auto at_open = s.next(EpisodeChange::opened, true);

  const auto markers = of(at_open, "ctmon_event");
  REQUIRE(markers.size() == 1);
  CHECK(markers[0].cls == store::OutboxClass::kMarker);
  CHECK(markers[0].time_ms == start_s * 1000);
  CHECK(markers[0].tags == std::map<std::string, std::string>{{"host", "gw"}});
  CHECK(markers[0].fields.count("time_end") == 0);
  CHECK(markers[0].fields.at("state") == "\"open\"");
  CHECK(markers[0].fields.at("kind") == "\"scan\"");
  CHECK(markers[0].fields.at("where") == "\"unknown\"");
  CHECK(markers[0].fields.at("event_id") == "\"7\"");

  const auto rates = of(at_open, "ctmon_rate");
  CHECK(of(at_open, "ctmon_rate", "udp_conntrack_input_new").empty());  // b did not move
  std::vector<Parsed> pre, full;
  for (const auto& p : rates) (p.time_ms < start_s * 1000 ? pre : full).push_back(p);
  // 15 min before the start in 10 s buckets: 90 buckets, 91 when the start is not on a boundary.
  CHECK(pre.size() >= 90);
  CHECK(pre.size() <= 91);
  CHECK(pre.front().time_ms >= (start_s - 900) * 1000);
  CHECK(full.size() == 3);  // the samples of the run that opened it, one point each
  CHECK(pre.front().tags.at("proto") == "tcp");
  CHECK(pre.front().tags.at("hook") == "fwd");
  CHECK(pre.front().tags.at("state") == "new");
  CHECK(pre.front().tags.at("host") == "gw");
  CHECK(std::stod(pre[5].fields.at("pps")) == Approx(10.0));
  CHECK(packets(pre[5]) == 100);  // a full 10 s bucket at 10 pps

  for (int i = 0; i < 60; ++i) CHECK(of(s.next(EpisodeChange::peak_updated, true), "ctmon_rate").size() == 1);

  s.episode.open = false;
  s.episode.end_wall_ns = (s.now_s() - 9) * kNsPerS;
  const std::int64_t end_s = s.episode.end_wall_ns / kNsPerS;
  const auto at_close = s.next(EpisodeChange::closed);
  const auto close_markers = of(at_close, "ctmon_event");
  REQUIRE(close_markers.size() == 1);
  CHECK(close_markers[0].time_ms == markers[0].time_ms);  // same point: InfluxDB merges the fields
  CHECK(close_markers[0].tags == markers[0].tags);
  CHECK(close_markers[0].fields.at("time_end") == std::to_string(end_s * 1000) + "i");
  CHECK(close_markers[0].fields.at("state") == "\"closed\"");

  const std::size_t before_post = of(s.all, "ctmon_rate").size();
  s.run_quiet(600);
  const auto all_rates = of(s.all, "ctmon_rate");
  const auto post = std::vector<Parsed>(all_rates.begin() + static_cast<long>(before_post), all_rates.end());
  // 5 min after the end in 10 s buckets, less the part already sent at full resolution.
  CHECK(post.size() >= 28);
  CHECK(post.size() <= 31);
  CHECK(post.back().time_ms <= (end_s + 300) * 1000);
  CHECK(post.front().time_ms > (end_s)*1000);

  // Nothing after the post-window.
  const std::size_t total = s.all.size();
  s.run_quiet(3600);
  CHECK(s.all.size() == total);
}

TEST_CASE("every packet of the forwarded range is counted exactly once, and no timestamp repeats") {
  Stream s(config());
  s.run_quiet(1000);
  open_episode(s, 2);
  s.next(EpisodeChange::opened, true);
  for (int i = 0; i < 30; ++i) s.next(EpisodeChange::none, true);
  s.episode.open = false;
  s.episode.end_wall_ns = s.now_s() * kNsPerS;
  s.next(EpisodeChange::closed);
  s.run_quiet(400);

  const auto rates = of(s.all, "ctmon_rate", "tcp_conntrack_fwd_new");
  std::set<std::int64_t> times;
  std::int64_t sum = 0;
  for (const auto& p : rates) {
    CHECK(times.insert(p.time_ms).second);
    sum += packets(p);
  }
  // Sent: samples from start-900 s to end+300 s. Counter a: 10 per quiet sample, 100 spiking.
  const std::int64_t start_s = s.episode.start_wall_ns / kNsPerS;
  const std::int64_t end_s = s.episode.end_wall_ns / kNsPerS;
  std::int64_t expected = 0;
  for (std::int64_t t = start_s - 900; t <= end_s + 300; ++t) {
    const std::int64_t i = t - kT0_s;  // sample index
    const bool spiking = i >= 1001 && i <= 1031;
    expected += spiking ? 100 : 10;
  }
  CHECK(sum == expected);
}

TEST_CASE("a counter that joins an open episode gets its own pre-window") {
  Stream s(config());
  s.run_quiet(1000);
  open_episode(s, 1);
  s.next(EpisodeChange::opened, true);
  for (int i = 0; i < 10; ++i) s.next(EpisodeChange::none, true);
  s.episode.counters.push_back(MovedCounter{s.c, "tcp_conntrack_input_invalid", 5, 1, 0.8, 7, 0});
  const auto joined = s.next(EpisodeChange::peak_updated, true);
  const auto c_points = of(joined, "ctmon_rate", "tcp_conntrack_input_invalid");
  CHECK(c_points.size() >= 90 + 12);  // pre-window buckets, then every sample since the start
  CHECK(of(s.next(EpisodeChange::none, true), "ctmon_rate").size() == 2);
}

TEST_CASE("an episode opening during the previous post-window repeats no sample") {
  Stream s(config());
  s.run_quiet(1000);
  open_episode(s, 1);
  s.next(EpisodeChange::opened, true);
  for (int i = 0; i < 20; ++i) s.next(EpisodeChange::none, true);
  s.episode.open = false;
  s.episode.end_wall_ns = s.now_s() * kNsPerS;
  s.next(EpisodeChange::closed);
  s.run_quiet(100);  // inside the 300 s post-window
  open_episode(s, 1);
  s.episode.id = 8;
  s.next(EpisodeChange::opened, true);
  for (int i = 0; i < 20; ++i) s.next(EpisodeChange::none, true);

  std::set<std::int64_t> times;
  std::int64_t sum = 0;
  for (const auto& p : of(s.all, "ctmon_rate", "tcp_conntrack_fwd_new")) {
    CHECK(times.insert(p.time_ms).second);
    sum += packets(p);
  }
  // Contiguous coverage from the first pre-window to now: no hole, no double count.
  const std::int64_t first_s = *times.begin() / 1000;
  std::int64_t expected = 0;
  for (std::int64_t t = first_s; t <= s.now_s(); ++t) {
    const std::int64_t i = t - kT0_s;
    const bool spiking = (i >= 1001 && i <= 1021) || (i >= 1123);
    expected += spiking ? 100 : 10;
  }
  CHECK(sum == expected);
  CHECK(of(s.all, "ctmon_event").size() == 3);
}

TEST_CASE("the heartbeat sends one point per counter per period, only when enabled") {
  ForwarderConfig c = config();
  c.heartbeat_ms = 3600 * 1000;
  Stream s(c);
  s.run_quiet(6 * 3600);
  const auto hb = of(s.all, "ctmon_heartbeat");
  // One point per counter each time a sample crosses into the next hour (the hour still
  // accumulating at the end is not sent).
  const std::int64_t crossings = (kT0_s + 6 * 3600) / 3600 - (kT0_s + 1) / 3600;
  CHECK(crossings == 6);
  CHECK(hb.size() == static_cast<std::size_t>(3 * crossings));
  CHECK(of(s.all, "ctmon_rate").empty());
  for (const auto& p : hb) CHECK(std::stod(p.fields.at("pps")) > 0);
  const auto a = of(s.all, "ctmon_heartbeat", "tcp_conntrack_fwd_new");
  CHECK(packets(a[1]) == 36000);
  CHECK(std::stod(a[1].fields.at("pps")) == Approx(10));
}

TEST_CASE("the collectd-compatible series carries cumulative packets as a float") {
  ForwarderConfig c = config();
  c.collectd_compat = true;
  Stream s(c);
  s.run_quiet(1000);
  open_episode(s, 1);
  s.next(EpisodeChange::opened, true);
  const auto compat = of(s.all, "nftables");
  REQUIRE(!compat.empty());
  CHECK(compat.size() == of(s.all, "ctmon_rate").size());
  const auto& last = compat.back();
  CHECK(last.tags.at("type_instance") == "tcp_conntrack_fwd_new");
  CHECK(last.tags.at("type") == "packets");
  CHECK(last.tags.at("instance") == "conntrack_stats");
  CHECK(last.fields.at("value").find('i') == std::string::npos);  // float, never an integer
  CHECK(std::stoll(last.fields.at("value")) == static_cast<std::int64_t>(s.cum[0]));
  Stream off(config());
  off.run_quiet(1000);
  open_episode(off, 1);
  off.next(EpisodeChange::opened, true);
  CHECK(of(off.all, "nftables").empty());
}

TEST_CASE("a restart with an open episode resumes streaming and still closes the marker") {
  Stream s(config());
  open_episode(s, 1);
  s.planner.resume(s.episode);
  s.run_quiet(5);
  CHECK(of(s.all, "ctmon_rate").size() == 5);
  s.episode.open = false;
  s.episode.end_wall_ns = s.now_s() * kNsPerS;
  CHECK(of(s.next(EpisodeChange::closed), "ctmon_event").size() == 1);
}

TEST_CASE("the forwarder commits markers at once and series every enqueue interval") {
  TempDir dir;
  store::Database db = store::Database::open(dir / "ctmon.db");
  store::Outbox outbox(db);
  Forwarder fwd(outbox, config(), {}, 30 * kNsPerS);
  CounterCatalog catalog;
  const CounterId a = catalog.intern("tcp_conntrack_fwd_new");
  Episode episode;
  episode.start_wall_ns = kT0_s * kNsPerS;
  episode.counters = {MovedCounter{a, "tcp_conntrack_fwd_new", 1, 1, 1, 1, 0}};
  std::uint64_t cum = 0;
  const auto feed = [&](std::int64_t t, EpisodeChange change) {
    Sample s;
    s.wall_ns = s.mono_ns = (kT0_s + t) * kNsPerS;
    cum += 10;
    s.counters = {{cum, 0, true}};
    StepResult r;
    r.counter_pps = {10.0};
    r.change = change;
    r.episode = change == EpisodeChange::none ? nullptr : &episode;
    fwd.step(s, r, catalog, s.mono_ns, s.wall_ns);
  };
  feed(0, EpisodeChange::opened);
  CHECK(outbox.size(store::OutboxClass::kMarker) == 1);
  CHECK(outbox.size(store::OutboxClass::kSeries) == 1);
  CHECK(fwd.pending() == 0);
  for (int t = 1; t <= 30; ++t) feed(t, EpisodeChange::none);
  CHECK(fwd.pending() == 30);  // not yet: one commit per 30 s of pending lines, not per sample
  feed(31, EpisodeChange::none);
  CHECK(fwd.pending() == 0);
  CHECK(outbox.size() == 33);
  feed(32, EpisodeChange::none);
  CHECK(fwd.pending() == 1);
  CHECK(fwd.flush(kT0_s * kNsPerS, true));
  CHECK(outbox.size() == 34);
  CHECK(fwd.enqueued() == 34);
}

#include <catch2/catch.hpp>

#include <vector>

#include "detectors/episode_tracker.h"

namespace ctmon {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

/// The wall time of the t-th sample a Feed gives the tracker.
constexpr std::int64_t at(std::int64_t t) { return (1'700'000'000 + t) * kS; }

struct Feed {
  EpisodeTracker tracker;
  std::vector<std::string> names{"tcp_conntrack_fwd_new"};
  std::int64_t t = 0;
  explicit Feed(const EpisodeConfig& c) : tracker(c) {}
  EpisodeChange step(double score, bool eligible = true, const std::vector<CounterObservation>& obs = {}) {
    ++t;
    return tracker.observe(t * kS, at(t), score, eligible, kDetectorPointForTest, obs, names);
  }
  static constexpr std::uint8_t kDetectorPointForTest = 1;
};

EpisodeConfig quick() {
  EpisodeConfig c;
  c.open_score = 0.5;
  c.close_score = 0.2;
  c.open_samples = 2;
  c.close_samples = 3;
  c.merge_gap_s = 0;
  return c;
}

}  // namespace

TEST_CASE("an episode opens after k samples above the threshold and starts at the first of them") {
  Feed f(quick());
  CHECK(f.step(0.1) == EpisodeChange::none);
  CHECK(f.step(0.9) == EpisodeChange::none);
  CHECK(f.step(0.8) == EpisodeChange::opened);
  const Episode& e = f.tracker.episode();
  CHECK(e.id == 1);
  CHECK(e.open);
  CHECK(e.start_wall_ns == at(2));
  CHECK(e.peak_score == Approx(0.9));
}

TEST_CASE("a single spike above the threshold opens nothing") {
  Feed f(quick());
  f.step(0.95);
  CHECK(f.step(0.0) == EpisodeChange::none);
  for (int i = 0; i < 10; ++i) CHECK(f.step(0.0) == EpisodeChange::none);
  CHECK_FALSE(f.tracker.is_open());
}

TEST_CASE("an episode closes after m quiet samples and ends at the last active one") {
  Feed f(quick());
  f.step(0.9);
  f.step(0.9);      // opened at t=2
  f.step(0.3);      // still above close_score: active, t=3
  CHECK(f.step(0.1) == EpisodeChange::none);
  CHECK(f.step(0.1) == EpisodeChange::none);
  CHECK(f.step(0.1) == EpisodeChange::closed);
  const Episode& e = f.tracker.episode();
  CHECK_FALSE(e.open);
  CHECK(e.end_wall_ns == at(3));
}

TEST_CASE("a burst within the merge gap extends the same episode") {
  EpisodeConfig c = quick();
  c.merge_gap_s = 10;
  Feed f(c);
  f.step(0.9);
  CHECK(f.step(0.9) == EpisodeChange::opened);
  for (int i = 0; i < 5; ++i) CHECK(f.step(0.0) == EpisodeChange::none);
  f.step(0.95);  // back within 10 s: same episode, higher peak
  CHECK(f.tracker.episode().id == 1);
  CHECK(f.tracker.is_open());
  int closed_after = 0;
  while (f.step(0.0) != EpisodeChange::closed) ++closed_after;
  CHECK(closed_after == 9);  // 10 quiet seconds
}

TEST_CASE("after a quiet sample, a weak blip within the merge gap neither extends the episode nor keeps it open") {
  EpisodeConfig c = quick();
  c.merge_gap_s = 10;
  Feed f(c);
  const CounterObservation far_out{0, 80.0, 10.0, 0.99, 12.0};
  f.step(0.9, true, {far_out});
  CHECK(f.step(0.9, true, {far_out}) == EpisodeChange::opened);  // t=2
  f.step(0.3, true, {{0, 30.0, 10.0, 0.3, 5.0}});               // t=3: the tail, still far out
  f.step(0.0);
  // One late probe 2 s after the fault: active, its counter still 5 sd out, but alone.
  f.step(0.3, true, {{0, 30.0, 10.0, 0.3, 5.0}});
  int quiet = 0;
  while (f.step(0.0) != EpisodeChange::closed) ++quiet;
  CHECK(quiet == 7);  // 10 s after t=3, the blip at t=5 not counted as active
  CHECK(f.tracker.episode().end_wall_ns == at(3));
}

TEST_CASE("a context counter far out is listed but does not move the end") {
  Feed f(quick());
  f.names.push_back("probe_wan_rtt_max_us");
  const CounterObservation far_out{0, 80.0, 10.0, 0.99, 12.0};
  CounterObservation slow_reply{1, 6300.0, 300.0, 0.6, 9.0};
  slow_reply.context = true;
  f.step(0.9, true, {far_out});
  CHECK(f.step(0.9, true, {far_out}) == EpisodeChange::opened);  // t=2
  f.step(0.3, true, {{0, 12.0, 10.0, 0.3, 0.4}, slow_reply});    // t=3: the burst's score drains
  for (int i = 0; i < 3; ++i) f.step(0.0);
  const Episode& e = f.tracker.episode();
  CHECK_FALSE(e.open);
  CHECK(e.end_wall_ns == at(2));
  REQUIRE(e.counters.size() == 2);  // still listed
  CHECK(e.counters[1].name == "probe_wan_rtt_max_us");
}

TEST_CASE("ineligible samples (warm-up) never open an episode") {
  Feed f(quick());
  for (int i = 0; i < 10; ++i) CHECK(f.step(1.0, false) == EpisodeChange::none);
  CHECK_FALSE(f.tracker.is_open());
}

TEST_CASE("a higher peak is reported, a marginally higher one is not") {
  Feed f(quick());
  f.step(0.6);
  f.step(0.6);
  CHECK(f.step(0.605) == EpisodeChange::none);
  CHECK(f.step(0.9) == EpisodeChange::peak_updated);
}

TEST_CASE("minimum duration holds back an episode until its run lasted long enough") {
  EpisodeConfig c = quick();
  c.min_duration_s = 3;
  Feed f(c);
  f.step(0.9);
  CHECK(f.step(0.9) == EpisodeChange::none);  // 1 s
  CHECK(f.step(0.9) == EpisodeChange::none);  // 2 s
  CHECK(f.step(0.9) == EpisodeChange::opened);
}

TEST_CASE("an episode no kind rule explains waits its extra samples; one they explain opens as before") {
  EpisodeConfig c = quick();
  c.unexplained_extra_samples = 1;
  const std::vector<CounterObservation> rising{{0, 50.0, 10.0, 0.9, 8.0}};
  SECTION("new connections rising alone: a page load until it lasts") {
    Feed f(c);  // its one counter is tcp_conntrack_fwd_new
    CHECK(f.step(0.9, true, rising) == EpisodeChange::none);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::none);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::opened);
    CHECK(f.tracker.episode().start_wall_ns == at(1));
  }
  SECTION("the same blip ending after two samples is no episode") {
    Feed f(c);
    f.step(0.9, true, rising);
    f.step(0.9, true, rising);
    CHECK(f.step(0.0) == EpisodeChange::none);
    CHECK_FALSE(f.tracker.is_open());
  }
  SECTION("a UDP storm is named at once") {
    Feed f(c);
    f.names = {"udp_conntrack_fwd_new"};
    CHECK(f.step(0.9, true, rising) == EpisodeChange::none);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::opened);
  }
  SECTION("a second counter moving with it is corroboration enough") {
    Feed f(c);
    f.names = {"tcp_conntrack_fwd_new", "tcp_conntrack_fwd_invalid"};
    // Invalid packets weigh less than the new connections, so no rule names the pair either.
    const std::vector<CounterObservation> both{{0, 50.0, 10.0, 0.9, 8.0}, {1, 5.0, 2.0, 0.6, 4.0}};
    CHECK(f.step(0.9, true, both) == EpisodeChange::none);
    CHECK(f.step(0.9, true, both) == EpisodeChange::opened);
  }
  SECTION("a score that opens at once still waits when nothing explains it") {
    c.open_now_score = 0.8;
    Feed f(c);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::none);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::none);
    CHECK(f.step(0.9, true, rising) == EpisodeChange::opened);
  }
}

TEST_CASE("a moved counter keeps its highest rate, not its highest score, and the usual rate from before") {
  Feed f(quick());
  f.step(0.9, true, {{0, 50.0, 10.0, 0.9, 8.0}});
  f.step(0.9, true, {{0, 80.0, 12.0, 0.99, 12.0}});
  f.step(0.9, true, {{0, 60.0, 20.0, 0.999, 6.0}});  // saturated score, lower rate: not the peak
  const Episode& e = f.tracker.episode();
  REQUIRE(e.counters.size() == 1);
  CHECK(e.counters[0].name == "tcp_conntrack_fwd_new");
  CHECK(e.counters[0].peak_pps == 80.0);
  CHECK(e.counters[0].peak_wall_ns == at(2));
  CHECK(e.counters[0].baseline_pps == 10.0);  // expected when it first moved; later ones drifted
  CHECK(e.counters[0].peak_score == Approx(0.999));
}

TEST_CASE("a counter that fell keeps its lowest rate") {
  Feed f(quick());
  f.step(0.9, true, {{0, 100.0, 480.0, 0.9, -8.0}});
  f.step(0.9, true, {{0, 20.0, 470.0, 0.95, -12.0}});
  f.step(0.9, true, {{0, 300.0, 460.0, 0.99, -5.0}});
  const MovedCounter& c = f.tracker.episode().counters.at(0);
  CHECK(c.peak_pps == 20.0);
  CHECK(c.peak_z < 0);
  CHECK(c.baseline_pps == 480.0);
}

TEST_CASE("the end is the last sample a moved counter was still far out, not the score's tail") {
  Feed f(quick());
  f.step(0.9, true, {{0, 80.0, 10.0, 0.99, 12.0}});  // t=1
  f.step(0.9, true, {{0, 80.0, 10.0, 0.99, 12.0}});  // t=2, opened
  f.step(0.9, true, {{0, 12.0, 10.0, 0.9, 0.4}});    // t=3: score held up (CUSUM), rate back
  f.step(0.3, true, {{0, 11.0, 10.0, 0.3, 0.2}});    // t=4
  for (int i = 0; i < 3; ++i) f.step(0.0);
  const Episode& e = f.tracker.episode();
  CHECK_FALSE(e.open);
  CHECK(e.start_wall_ns == at(1));
  CHECK(e.end_wall_ns == at(2));
}

TEST_CASE("a CUSUM's change point moves the start back and its peak moves the end on") {
  Feed f(quick());
  for (int i = 0; i < 5; ++i) f.step(0.0);  // t=1..5, quiet
  // A weak shift from t=8 on: no sample far out (z 3), the CUSUM alarms at t=14 and peaks at 30.
  CounterObservation weak{0, 20.0, 6.0, 0.99, 3.0};
  weak.shift_start_wall_ns = at(8);
  for (int t = 6; t < 14; ++t) f.step(0.1);
  weak.shift_peak_wall_ns = at(14);
  f.step(0.9, true, {weak});  // t=14
  weak.shift_peak_wall_ns = at(15);
  CHECK(f.step(0.9, true, {weak}) == EpisodeChange::opened);  // t=15
  CHECK(f.tracker.episode().start_wall_ns == at(8));
  for (int t = 16; t <= 30; ++t) weak.shift_peak_wall_ns = at(t), f.step(0.9, true, {weak});
  for (int t = 31; t <= 40; ++t) f.step(0.9, true, {weak});  // draining: the peak stays at 30
  for (int i = 0; i < 3; ++i) f.step(0.0);
  CHECK_FALSE(f.tracker.episode().open);
  CHECK(f.tracker.episode().end_wall_ns == at(30));
}

TEST_CASE("a burst's small tail, which keeps feeding the CUSUM, does not move the end") {
  Feed f(quick());
  CounterObservation burst{0, 80.0, 10.0, 0.99, 12.0};
  for (int t = 1; t <= 10; ++t) burst.shift_peak_wall_ns = at(t), f.step(0.9, true, {burst});
  CounterObservation tail{0, 15.0, 10.0, 0.9, 2.5};  // a tenth of the burst, z 2.5: the sum grows on
  for (int t = 11; t <= 20; ++t) tail.shift_peak_wall_ns = at(t), f.step(0.9, true, {tail});
  for (int i = 0; i < 3; ++i) f.step(0.0);
  CHECK_FALSE(f.tracker.episode().open);
  CHECK(f.tracker.episode().end_wall_ns == at(10));
}

TEST_CASE("a change point never reaches back into the previous episode") {
  Feed f(quick());
  f.step(0.9, true, {{0, 80.0, 10.0, 0.99, 12.0}});
  f.step(0.9, true, {{0, 80.0, 10.0, 0.99, 12.0}});  // opened at t=1, ends at t=2
  for (int i = 0; i < 3; ++i) f.step(0.0);           // closed at t=5
  CounterObservation weak{0, 20.0, 6.0, 0.99, 3.0};
  weak.shift_start_wall_ns = at(1);  // a run that began inside the first episode
  f.step(0.9, true, {weak});
  f.step(0.9, true, {weak});  // t=7: opened
  CHECK(f.tracker.episode().id == 2);
  CHECK(f.tracker.episode().start_wall_ns == at(2) + 1);
}

TEST_CASE("a context counter's change point does not move the start back") {
  // The router's own answers to a scan stop with it; their CUSUM then runs on the fall, and a
  // later fault must not start when the scan ended.
  Feed f(quick());
  f.names.push_back("tcp_conntrack_output_established");
  for (int i = 0; i < 5; ++i) f.step(0.0);
  CounterObservation answers{1, 0.0, 1.3, 0.9, -3.0};
  answers.context = true;
  answers.shift_start_wall_ns = at(1);
  const CounterObservation fault{0, 80.0, 10.0, 0.99, 12.0};
  f.step(0.9, true, {fault, answers});
  CHECK(f.step(0.9, true, {fault, answers}) == EpisodeChange::opened);  // t=7
  CHECK(f.tracker.episode().start_wall_ns == at(6));
  CHECK(f.tracker.episode().counters.size() == 2);  // still listed
}

TEST_CASE("an episode without a moved counter ends at its last active sample") {
  Feed f(quick());
  f.step(0.9);
  f.step(0.9);
  f.step(0.3);  // t=3
  for (int i = 0; i < 3; ++i) f.step(0.0);
  CHECK(f.tracker.episode().end_wall_ns == at(3));
}

TEST_CASE("multivariate drivers are listed even below the moved score, and flagged") {
  Feed f(quick());
  CounterObservation driver{0, 30.0, 20.0, 0.1, 3.0};
  driver.multivariate_driver = true;
  f.step(0.9, true, {driver});
  f.step(0.9, true, {driver});
  const Episode& e = f.tracker.episode();
  REQUIRE(e.counters.size() == 1);
  CHECK(e.counters[0].multivariate_driver);
  CHECK(e.counters[0].peak_z == 3.0);
}

TEST_CASE("tracker state round-trips with an open episode") {
  Feed f(quick());
  f.step(0.9, true, {{0, 80.0, 10.0, 0.99, 12.0}});
  f.step(0.9);
  ByteWriter w;
  f.tracker.save(w);
  EpisodeTracker g(quick());
  ByteReader r(w.bytes());
  g.load(r);
  REQUIRE(r.ok());
  CHECK(g.is_open());
  CHECK(g.episode() == f.tracker.episode());
}

}  // namespace ctmon

namespace ctmon {

TEST_CASE("an episode gathers the health of every sample it records: flags of any, the fullest table") {
  EpisodeTracker tracker(quick());
  const std::vector<std::string> names{"probe_wan_jitter_us"};
  auto step = [&](std::int64_t t, double score, EpisodeHealth h) {
    return tracker.observe(t * kS, at(t), score, true, 1, {}, names, h);
  };
  EpisodeHealth calm;
  calm.wan_probed = calm.lan_probed = calm.conntrack_read = true;
  calm.fill_entries = 50'000;
  calm.fill_limit = 65'536;
  EpisodeHealth jitter = calm;
  jitter.wan_up = true;
  jitter.fill_entries = 61'000;
  step(1, 0.0, jitter);  // before the episode: not its evidence
  step(2, 0.9, calm);
  CHECK(step(3, 0.9, jitter) == EpisodeChange::opened);
  step(4, 0.9, calm);
  const EpisodeHealth& h = tracker.episode().health;
  CHECK(h.wan_up);
  CHECK_FALSE(h.lan_up);
  CHECK(h.lan_probed);
  CHECK(h.fill_entries == 61'000);  // the fullest sample, not the last
  CHECK(h.fill_limit == 65'536);
  step(5, 0.0, calm);
  step(6, 0.0, calm);
  CHECK(step(7, 0.0, calm) == EpisodeChange::closed);
  step(8, 0.9, calm);  // the next episode starts clean
  CHECK(step(9, 0.9, calm) == EpisodeChange::opened);
  CHECK_FALSE(tracker.episode().health.wan_up);
  CHECK(tracker.episode().health.fill_entries == 50'000);
}

TEST_CASE("tracker state round-trips an episode's where and health") {
  EpisodeTracker tracker(quick());
  const std::vector<std::string> names{"probe_wan_jitter_us"};
  EpisodeHealth h;
  h.wan_probed = h.lan_probed = h.wan_up = h.drops_up = true;
  h.fill_entries = 123;
  h.fill_limit = 456;
  tracker.observe(1 * kS, 1 * kS, 0.9, true, 1, {}, names, h);
  tracker.observe(2 * kS, 2 * kS, 0.9, true, 1, {}, names, h);
  tracker.episode().where = Where::router;
  ByteWriter out;
  tracker.save(out);
  const std::string bytes = out.take();
  EpisodeTracker restored(quick());
  ByteReader in(bytes);
  restored.load(in);
  REQUIRE(in.ok());
  CHECK(restored.episode() == tracker.episode());
  CHECK(restored.episode().where == Where::router);
  CHECK(restored.episode().health == h);
}

TEST_CASE("an episode someone else recorded keeps that start and goes on; one nobody recorded is forgotten") {
  Feed f(quick());
  f.step(0.0);
  f.step(0.9);
  REQUIRE(f.step(0.9) == EpisodeChange::opened);  // starts at t=2
  const std::int64_t recorded_start = at(-5);
  f.tracker.adopt_start(recorded_start);
  CHECK(f.tracker.is_open());
  CHECK(f.step(0.9) == EpisodeChange::none);
  CHECK(f.tracker.episode().start_wall_ns == recorded_start);
  for (int i = 0; i < 2; ++i) CHECK(f.step(0.0) == EpisodeChange::none);
  REQUIRE(f.step(0.0) == EpisodeChange::closed);
  CHECK(f.tracker.episode().start_wall_ns == recorded_start);
  CHECK(f.tracker.episode().end_wall_ns == at(4));

  f.step(0.9);
  REQUIRE(f.step(0.9) == EpisodeChange::opened);
  f.tracker.forget_open();
  CHECK_FALSE(f.tracker.is_open());
  for (int i = 0; i < 5; ++i) CHECK(f.step(0.0) == EpisodeChange::none);  // no close of what was forgotten
  f.step(0.9);
  CHECK(f.step(0.9) == EpisodeChange::opened);  // and the next one opens as usual
}

}  // namespace ctmon

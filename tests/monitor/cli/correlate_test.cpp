// `ctmon correlate` on a database written by the real store writer: samples with a probe's jitter
// that follows one counter a second later, and episodes of each kind in the events table.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "monitor/cli/correlate.h"
#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/sample_writer.h"
#include "monitor/user_error.h"
#include "tests/monitor/store/temp_dir.h"

using namespace ctmon;

namespace {
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'790'000'000 * kSecond;
constexpr auto kAll = std::numeric_limits<std::int64_t>::min();
constexpr auto kNone = std::numeric_limits<std::int64_t>::max();

// Rates that go up and down without a pattern of their own (a fixed permutation of 0..96).
std::uint64_t burst(int t) { return static_cast<std::uint64_t>((t * 37) % 97); }

void write_samples(const std::filesystem::path& path, int seconds, bool with_probe) {
  store::Database db = store::Database::open(path);
  store::SampleWriterOptions options;
  options.bytes = store::BytesPolicy::kAlways;  // mean counters need their sums
  store::SampleWriter writer(db, options);
  CounterCatalog catalog;
  const CounterId driver = catalog.intern("udp_conntrack_fwd_new");
  const CounterId steady = catalog.intern("tcp_conntrack_fwd_established");
  const CounterId jitter = with_probe ? catalog.intern("probe_wan_jitter_us") : 0;
  std::uint64_t driver_total = 0, jitter_sum = 0, jitter_n = 0;
  for (int t = 0; t < seconds; ++t) {
    Sample sample;
    sample.mono_ns = t * kSecond;
    sample.wall_ns = kStart + t * kSecond;
    sample.counters.resize(catalog.size());
    driver_total += burst(t);
    sample.counters[driver] = {driver_total, driver_total * 80, true};
    sample.counters[steady] = {static_cast<std::uint64_t>(t) * 50 + (t * 11) % 5, 0, true};
    if (with_probe) {
      // This second's jitter: 1 ms plus 100 us per new UDP connection per second one second before.
      jitter_n += 4;
      jitter_sum += 4 * (1000 + 100 * (t >= 1 ? burst(t - 1) : 0));
      sample.counters[jitter] = {jitter_n, jitter_sum, true};
    }
    writer.append(sample, catalog);
  }
  REQUIRE(writer.flush(seconds * kSecond).condition == store::CommitCondition::kOk);
}

void write_event(const std::filesystem::path& path, std::int64_t id, const std::string& evidence,
                 const std::string& where) {
  store::Database db = store::Database::open(path);
  store::EventRecord e;
  e.id = id;
  e.start_wall_ns = kStart + id * 10 * kSecond;
  e.end_wall_ns = e.start_wall_ns + 5 * kSecond;
  e.kind = "unknown";
  e.where = where;
  e.evidence_json = evidence;
  store::EventStore(db).upsert(e);
}

std::string peak(const char* name, std::int64_t at_s) {
  return fmt::format(R"({{"name":"{}","peak_ts":{}}})", name, (kStart + at_s * kSecond) / kSecond);
}
}  // namespace

TEST_CASE("correlate finds the counter that leads the jitter, and splits the episodes") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  write_samples(path, 400, true);
  write_event(path, 1, "[" + peak("tcp_conntrack_fwd_new", 12) + "]", "unknown");
  write_event(path, 2, "[" + peak("probe_wan_jitter_us", 25) + "," + peak("udp_conntrack_fwd_new", 28) + "]", "isp");

  const nlohmann::json report = nlohmann::json::parse(cli::correlate_report(path, kAll, kNone, true));
  CHECK(report["probe_counters"] == true);
  CHECK(report["intervals"] == 399);
  CHECK(report["episodes"]["total"] == 2);
  CHECK(report["episodes"]["counters_only"] == 1);
  CHECK(report["episodes"]["both"] == 1);
  CHECK(report["episodes"]["probes_first"] == 1);
  CHECK(report["episodes"]["lag_s"]["median"] == Approx(3));
  CHECK(report["episodes"]["where"]["isp"] == 1);
  REQUIRE(report["targets"].size() == 1);
  const auto& target = report["targets"][0];
  CHECK(target["counter"] == "probe_wan_jitter_us");
  CHECK(target["label"] == "WAN jitter");
  REQUIRE(target["predictors"].size() == 2);
  CHECK(target["predictors"][0]["counter"] == "udp_conntrack_fwd_new");
  CHECK(target["predictors"][0]["lag_intervals"] == 1);
  CHECK(target["predictors"][0]["rho"].get<double>() == Approx(1.0));
  CHECK(target["predictors"][0]["pairs"] == 398);
  CHECK(std::abs(target["predictors"][1]["rho"].get<double>()) < 0.5);

  const std::string text = cli::correlate_report(path, kAll, kNone, false);
  CHECK_THAT(text, Catch::Contains("udp_conntrack_fwd_new") && Catch::Contains("leads WAN jitter by 1 interval") &&
                       Catch::Contains("over 398 samples"));
  CHECK_THAT(text, Catch::Contains("probes peaked first in 1"));

  // Ten seconds hold too few pairs for a verdict.
  const std::string short_period = cli::correlate_report(path, kStart + 100 * kSecond, kStart + 110 * kSecond, false);
  CHECK_THAT(short_period, Catch::Contains("n too small"));
}

TEST_CASE("correlate without probe counters says how to turn probes on") {
  store::testing::TempDir dir;
  const auto path = dir / "ctmon.db";
  write_samples(path, 60, false);
  const std::string text = cli::correlate_report(path, kAll, kNone, false);
  CHECK_THAT(text, Catch::Contains("No probe counters") && Catch::Contains("--probe auto"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(nlohmann::json::parse(cli::correlate_report(path, kAll, kNone, true))["probe_counters"] == false);
}

TEST_CASE("correlate on a missing database is a user error") {
  store::testing::TempDir dir;
  CHECK_THROWS_AS(cli::correlate_report(dir / "absent.db", kAll, kNone, false), UserError);
}

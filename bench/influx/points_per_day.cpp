// Points per day that ctmon sends to InfluxDB, against the 51,840 points/day of the seed setup
// (18 counters every 30 s). Runs the daemon's own detectors (AnalyzerConfig::network) and
// forwarder planner (the code Pipeline feeds) over synthetic 7-day recordings of 18 conntrack
// counters at 5 s: a quiet week (diurnal rhythm + Poisson-like noise) and a week with 3 spikes a
// day. Prints points per day, per measurement, with and without the heartbeat.
//
// Usage: influx_points_per_day [days=7] [seed=1]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "core/time.h"
#include "detectors/analyzer.h"
#include "monitor/influx/forwarder.h"

using namespace ctmon;

namespace {

constexpr double kIntervalS = 5;
constexpr std::int64_t kT0_s = 1'700'000'000;
constexpr double kSeedPointsPerDay = 18.0 * 86400 / 30;  // 51,840
constexpr int kSpikesPerDay = 3;

struct Spike {
  std::int64_t start_s;
  std::int64_t duration_s;
  std::size_t counter;
  double factor;
};

struct Result {
  std::map<std::string, std::uint64_t> lines;  // by measurement
  std::uint64_t episodes = 0;
};

Result run(int days, std::uint32_t seed, bool with_spikes, bool heartbeat) {
  std::mt19937_64 rng(seed);
  CounterCatalog catalog;
  std::vector<double> base;
  for (const char* proto : {"tcp", "udp", "icmp"})
    for (const char* hook : {"input", "fwd"})
      for (const char* state : {"new", "established", "invalid"}) {
        catalog.intern(fmt::format("{}_conntrack_{}_{}", proto, hook, state));
        const double s = std::string(state) == "established" ? 200 : std::string(state) == "new" ? 20 : 1;
        base.push_back(s * (std::string(proto) == "icmp" ? 0.1 : 1) * (std::string(hook) == "fwd" ? 3 : 1));
      }
  std::vector<Spike> spikes;
  if (with_spikes) {
    std::uniform_int_distribution<std::int64_t> when(3600, 86400 - 3600);
    std::uniform_int_distribution<std::int64_t> duration(60, 240);
    std::uniform_real_distribution<double> factor(10, 30);
    std::vector<std::size_t> alarming;  // new and invalid counters
    for (std::size_t i = 0; i < catalog.size(); ++i)
      if (catalog.name(i).find("established") == std::string::npos) alarming.push_back(i);
    std::uniform_int_distribution<std::size_t> which(0, alarming.size() - 1);
    for (int d = 0; d < days; ++d) {
      // Spread over the day, not overlapping.
      for (int k = 0; k < kSpikesPerDay; ++k)
        spikes.push_back({d * 86400 + k * 28800 + when(rng) % 25000 + 1800, duration(rng), alarming[which(rng)], factor(rng)});
    }
  }
  Analyzer analyzer(AnalyzerConfig::network(kIntervalS));
  influx::ForwarderConfig fc;
  fc.host = "router";
  if (heartbeat) fc.heartbeat_ms = 3600 * 1000;
  influx::ForwardPlanner planner(fc);
  std::vector<std::uint64_t> cum(catalog.size(), 0);
  std::normal_distribution<double> gauss(0, 1);
  Result result;
  std::vector<store::OutboxLine> out;
  const auto samples = static_cast<std::int64_t>(days * 86400 / kIntervalS);
  for (std::int64_t i = 0; i < samples; ++i) {
    const std::int64_t t = static_cast<std::int64_t>(i * kIntervalS);
    const double diurnal = 1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(t % 86400) / 86400);
    Sample s;
    s.wall_ns = s.mono_ns = (kT0_s + t) * kNsPerS;
    for (std::size_t c = 0; c < cum.size(); ++c) {
      double mean = base[c] * diurnal * kIntervalS;
      for (const Spike& sp : spikes)
        if (sp.counter == c && t >= sp.start_s && t < sp.start_s + sp.duration_s) mean *= sp.factor;
      cum[c] += static_cast<std::uint64_t>(std::max(0.0, std::round(mean + std::sqrt(mean) * gauss(rng))));
      s.counters.push_back({cum[c], cum[c] * 80, true});
    }
    const StepResult& r = analyzer.observe(s, catalog, 0);
    if (r.change == EpisodeChange::opened) ++result.episodes;
    out.clear();
    planner.step(s, r, catalog, out);
    for (const auto& l : out) ++result.lines[l.line.substr(0, l.line.find(','))];
  }
  out.clear();
  planner.finish(out);
  for (const auto& l : out) ++result.lines[l.line.substr(0, l.line.find(','))];
  return result;
}

void print(const char* name, int days, const Result& r) {
  std::uint64_t total = 0;
  std::string parts;
  for (const auto& [m, n] : r.lines) {
    total += n;
    parts += fmt::format(" {}={:.0f}/day", m, static_cast<double>(n) / days);
  }
  const double per_day = static_cast<double>(total) / days;
  fmt::print("{:<34} {:>9.1f} points/day  {:>7.3f}% of 51,840  episodes {:>3} ({:.1f}/day){}\n", name, per_day,
             100 * per_day / kSeedPointsPerDay, r.episodes, static_cast<double>(r.episodes) / days, parts);
  if (r.episodes > 0)
    fmt::print("{:<34} {:>9.1f} points per episode (markers + windows + stream)\n", "",
               static_cast<double>(total) / static_cast<double>(r.episodes));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--help") {
    std::puts("usage: influx_points_per_day [days=7] [seed=1]");
    return 0;
  }
  const int days = argc > 1 ? std::atoi(argv[1]) : 7;
  const auto seed = static_cast<std::uint32_t>(argc > 2 ? std::atoi(argv[2]) : 1);
  fmt::print("{} days, 18 counters at {} s, seed {}; seed setup: {:.0f} points/day\n", days, kIntervalS, seed,
             kSeedPointsPerDay);
  print("quiet, no heartbeat", days, run(days, seed, false, false));
  print("quiet, heartbeat 1 h", days, run(days, seed, false, true));
  print("3 spikes/day, no heartbeat", days, run(days, seed, true, false));
  print("3 spikes/day, heartbeat 1 h", days, run(days, seed, true, true));
  return 0;
}

// The conntrack health input with scripted readings: what it adds to samples (docs/measurements.md),
// and how it behaves when the kernel refuses, which the running kernel cannot be made to do.
#include <catch2/catch.hpp>

#include <cerrno>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "monitor/conntrack/conntrack_health_input.h"

namespace ctmon::conntrack {
namespace {

constexpr std::int64_t kS = 1'000'000'000;

ConntrackStats kernel(std::optional<std::uint32_t> entries, std::optional<std::uint32_t> limit,
                      std::uint32_t drops_per_cpu, bool newer = true) {
  ConntrackStats stats;
  stats.entries = entries;
  stats.limit = limit;
  for (std::uint16_t cpu = 0; cpu < 2; ++cpu) {
    CpuStats& c = stats.cpus.emplace_back();
    c.cpu = cpu;
    for (std::size_t k = 0; k < kStatCount; ++k) c.values[k] = 0;
    c.values[static_cast<std::size_t>(Stat::drop)] = drops_per_cpu;
    c.values[static_cast<std::size_t>(Stat::found)] = 1000;
    if (!newer) {
      c.values[static_cast<std::size_t>(Stat::clash_resolve)].reset();
      c.values[static_cast<std::size_t>(Stat::chain_toolong)].reset();
    }
  }
  return stats;
}

// A kernel that answers from a script: a reading or an errno per call.
struct ScriptedKernel {
  std::deque<std::pair<int, ConntrackStats>> answers;
  int calls = 0;
  ConntrackHealthInput::ReadFunction function() {
    return [this](ConntrackStats& out, std::int64_t) {
      ++calls;
      REQUIRE_FALSE(answers.empty());
      auto [error, stats] = answers.front();
      answers.pop_front();
      if (error == 0) out = stats;
      return error;
    };
  }
};

struct Harness {
  ScriptedKernel kernel;
  std::vector<std::pair<io::Severity, std::string>> log;
  ConntrackHealthInput input{[this](io::Severity s, const std::string& line) { log.emplace_back(s, line); },
                             kernel.function()};
  CounterCatalog catalog;

  Sample reading(std::int64_t now) {
    Sample sample;
    sample.counters.resize(catalog.size());
    input.add_totals(sample, catalog, now);
    return sample;
  }
  [[nodiscard]] std::optional<CounterTotals> counter(const Sample& sample, const std::string& name) const {
    const CounterId id = catalog.find(name);
    if (id >= sample.counters.size() || !sample.counters[id].present) return std::nullopt;
    return sample.counters[id];
  }
};

TEST_CASE("entries and limit are mean counters, the statistics cumulative rate counters") {
  Harness h;
  h.kernel.answers = {{0, kernel(100, 65536, 3)}, {0, kernel(300, 65536, 5)}};
  const Sample first = h.reading(0);
  CHECK(h.counter(first, "conntrack_entries") == CounterTotals{1, 100, true});
  CHECK(h.counter(first, "conntrack_limit") == CounterTotals{1, 65536, true});
  CHECK(h.counter(first, "conntrack_stat_drop") == CounterTotals{6, 0, true});
  const Sample second = h.reading(kS);
  CHECK(h.counter(second, "conntrack_entries") == CounterTotals{2, 400, true});  // value 300 = 300/1
  CHECK(h.counter(second, "conntrack_limit") == CounterTotals{2, 131072, true});
  CHECK(h.counter(second, "conntrack_stat_drop") == CounterTotals{10, 0, true});
  CHECK(h.counter(second, "conntrack_stat_chain_toolong") == CounterTotals{0, 0, true});
  // found and insert count the normal case: not stored.
  CHECK(h.catalog.find("conntrack_stat_found") == h.catalog.size());
  CHECK(h.catalog.find("conntrack_stat_insert") == h.catalog.size());
  CHECK(h.catalog.size() == 10);  // entries, limit and the eight statistics
  CHECK(h.log.empty());

  status::DaemonStatus status;
  h.input.report(status);
  REQUIRE(status.conntrack);
  CHECK(status.conntrack->state == "ok");
  CHECK(status.conntrack->entries == 300u);
  CHECK(status.conntrack->limit == 65536u);
  CHECK(status.conntrack->drops == 4);  // since the first reading
  CHECK(status.conntrack->readings == 2);
}

TEST_CASE("what an older kernel does not report is no counter at all") {
  Harness h;
  h.kernel.answers = {{0, kernel(7, std::nullopt, 0, false)}};
  const Sample sample = h.reading(0);
  CHECK(h.counter(sample, "conntrack_entries").has_value());
  CHECK(h.catalog.find("conntrack_limit") == h.catalog.size());
  CHECK(h.catalog.find("conntrack_stat_clash_resolve") == h.catalog.size());
  CHECK(h.catalog.find("conntrack_stat_chain_toolong") == h.catalog.size());
  CHECK(h.counter(sample, "conntrack_stat_early_drop").has_value());
}

TEST_CASE("a refusal is logged once with what to do, retried once a minute, and its counters are absent") {
  Harness h;
  h.kernel.answers = {{0, kernel(10, 100, 0)}, {EPERM, {}}, {EPERM, {}}, {0, kernel(12, 100, 0)}};
  CHECK(h.counter(h.reading(0), "conntrack_entries").has_value());
  const Sample refused = h.reading(kS);
  CHECK_FALSE(h.counter(refused, "conntrack_entries").has_value());
  CHECK_FALSE(h.counter(refused, "conntrack_stat_drop").has_value());
  REQUIRE(h.log.size() == 1);
  CHECK(h.log[0].first == io::Severity::kError);
  CHECK_THAT(h.log[0].second, Catch::Contains("CAP_NET_ADMIN") && Catch::Contains("--no-conntrack-health"));
  status::DaemonStatus status;
  h.input.report(status);
  CHECK(status.conntrack->state == "no permission");
  CHECK(status.conntrack->detail == h.log[0].second);

  for (std::int64_t t = 2; t < 61; ++t) CHECK_FALSE(h.counter(h.reading(t * kS), "conntrack_entries").has_value());
  CHECK(h.kernel.calls == 2);  // not once per sample
  h.reading(61 * kS);          // a minute later: asks, refused again, nothing more logged
  CHECK(h.kernel.calls == 3);
  CHECK(h.log.size() == 1);
  const Sample back = h.reading(122 * kS);
  CHECK(h.counter(back, "conntrack_entries") == CounterTotals{2, 22, true});
  REQUIRE(h.log.size() == 2);
  CHECK(h.log[1].first == io::Severity::kInfo);
  CHECK_THAT(h.log[1].second, Catch::Contains("again"));
  h.input.report(status);
  CHECK(status.conntrack->state == "ok");
  CHECK(status.conntrack->failures == 2);
}

TEST_CASE("no ctnetlink says which module to load; a late answer is retried at the next sample") {
  Harness h;
  h.kernel.answers = {{EINVAL, {}}, {ETIMEDOUT, {}}, {0, kernel(1, 2, 0)}};
  h.reading(0);
  REQUIRE(h.log.size() == 1);
  CHECK_THAT(h.log[0].second, Catch::Contains("nf_conntrack_netlink") && Catch::Contains("kmod-nf-conntrack-netlink"));
  status::DaemonStatus status;
  h.input.report(status);
  CHECK(status.conntrack->state == "no ctnetlink");
  h.reading(61 * kS);
  CHECK(h.log.size() == 2);
  CHECK(h.log[1].first == io::Severity::kWarning);
  CHECK(h.counter(h.reading(62 * kS), "conntrack_entries").has_value());  // the next sample
}

TEST_CASE("off, no input") {
  Config config;
  CHECK(make_input(config, {}) != nullptr);
  config.conntrack_health = false;
  CHECK(make_input(config, {}) == nullptr);
}

}  // namespace
}  // namespace ctmon::conntrack

#include "monitor/probe/probe_stats.h"

#include <catch2/catch.hpp>

using ctmon::probe::median_of;
using ctmon::probe::ProbeStats;

namespace {
constexpr std::int64_t ms(double value) { return static_cast<std::int64_t>(value * 1'000'000); }
}  // namespace

TEST_CASE("median of odd and even counts") {
  std::vector<std::uint64_t> odd{30, 10, 20};
  CHECK(median_of(odd) == 20);
  std::vector<std::uint64_t> even{40, 10, 30, 20};
  CHECK(median_of(even) == 25);
  std::vector<std::uint64_t> one{7};
  CHECK(median_of(one) == 7);
}

TEST_CASE("an interval's min, median and max are over its replies only") {
  ProbeStats stats;
  stats.on_reply(0, ms(10));
  stats.on_reply(1, ms(30));
  stats.on_reply(2, ms(20));
  stats.close_interval();
  CHECK(stats.totals().rtt_intervals == 1);
  CHECK(stats.totals().rtt_min_us_sum == 10'000);
  CHECK(stats.totals().rtt_median_us_sum == 20'000);
  CHECK(stats.totals().rtt_max_us_sum == 30'000);
  stats.on_reply(3, ms(5));
  stats.close_interval();
  CHECK(stats.totals().rtt_intervals == 2);
  CHECK(stats.totals().rtt_min_us_sum == 15'000);
  CHECK(stats.totals().rtt_max_us_sum == 35'000);
}

TEST_CASE("an interval without a reply adds no RTT observation, never a zero") {
  ProbeStats stats;
  stats.on_timeout(0);
  stats.close_interval();
  CHECK(stats.totals().rtt_intervals == 0);
  CHECK(stats.totals().rtt_min_us_sum == 0);
  CHECK(stats.totals().resolved == 1);
  CHECK(stats.totals().lost == 1);
}

TEST_CASE("jitter is the mean absolute successive RTT difference, across intervals") {
  ProbeStats stats;
  stats.on_reply(0, ms(10));
  stats.on_reply(1, ms(50));  // |40|
  stats.close_interval();
  stats.on_reply(2, ms(20));  // |30|, across the boundary
  stats.close_interval();
  CHECK(stats.totals().jitter_pairs == 2);
  CHECK(stats.totals().jitter_us_sum == 70'000);
}

TEST_CASE("a constant delay has no jitter, however large") {
  ProbeStats stats;
  for (std::uint64_t i = 0; i < 10; ++i) stats.on_reply(i, ms(250));
  CHECK(stats.totals().jitter_pairs == 9);
  CHECK(stats.totals().jitter_us_sum == 0);
}

TEST_CASE("a lost probe breaks the jitter chain") {
  ProbeStats stats;
  stats.on_reply(0, ms(10));
  stats.on_timeout(1);
  stats.on_reply(2, ms(90));  // no pair with probe 0
  stats.on_reply(3, ms(80));  // |10|
  CHECK(stats.totals().jitter_pairs == 1);
  CHECK(stats.totals().jitter_us_sum == 10'000);
  CHECK(stats.totals().lost == 1);
  CHECK(stats.totals().resolved == 4);
}

TEST_CASE("a reply after its successor's (reordered) pairs with nothing") {
  ProbeStats stats;
  stats.on_reply(0, ms(10));
  stats.on_reply(2, ms(20));  // probe 1 still out: no pair
  stats.on_reply(1, ms(90));  // late: its successor came already
  stats.on_reply(3, ms(25));  // pairs with probe 2: |5|
  CHECK(stats.totals().jitter_pairs == 1);
  CHECK(stats.totals().jitter_us_sum == 5'000);
}

TEST_CASE("a timeout after a later reply does not break the later chain") {
  ProbeStats stats;
  stats.on_reply(0, ms(10));
  stats.on_reply(2, ms(20));
  stats.on_timeout(1);
  stats.on_reply(3, ms(26));  // pairs with probe 2
  CHECK(stats.totals().jitter_pairs == 1);
  CHECK(stats.totals().jitter_us_sum == 6'000);
}

TEST_CASE("loss per interval stays within 0..1: lost and resolved move together") {
  ProbeStats stats;
  for (std::uint64_t i = 0; i < 10; ++i) {
    if (i % 3 == 0)
      stats.on_timeout(i);
    else
      stats.on_reply(i, ms(1));
  }
  CHECK(stats.totals().resolved == 10);
  CHECK(stats.totals().lost == 4);
}

#include "monitor/store/block_codec.h"

#include "core/time.h"
#include "synthetic_mix.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>

using ctmon::CounterTotals;
using ctmon::Sample;
using namespace ctmon::store;

namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0Wall = 1'764'201'600 * kSecond;  // 2025-11-27 00:00 UTC

// n samples of `counters` counters every second, with timer jitter and Poisson-ish increments.
std::vector<Sample> regular(std::size_t n, std::size_t counters, std::uint32_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<Sample> out(n);
  std::vector<CounterTotals> totals(counters);
  for (std::size_t c = 0; c < counters; ++c) totals[c] = {1'000'000 * c, 700'000'000 * c, true};
  for (std::size_t k = 0; k < n; ++k) {
    const auto jitter = static_cast<std::int64_t>(rng() % 200'000);  // up to 200 us late
    out[k].mono_ns = 5'000 * kSecond + static_cast<std::int64_t>(k) * kSecond + jitter;
    out[k].wall_ns = kT0Wall + static_cast<std::int64_t>(k) * kSecond + jitter + 137;
    for (std::size_t c = 0; c < counters; ++c) {
      const std::uint64_t p = c < 2 ? 500 + rng() % 100 : (rng() % 4 == 0 ? rng() % 5 : 0);
      totals[c].packets += p;
      totals[c].bytes += p * (c < 2 ? 700 : 60) + (p ? rng() % 40 : 0);
    }
    out[k].counters = totals;
  }
  return out;
}

void require_round_trip(const std::vector<Sample>& in) {
  BlockOptions exact;
  exact.time_unit_ns = 1;
  const auto block = encode_block(in, exact);
  const auto out = decode_block(block);
  REQUIRE(out.size() == in.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    INFO("sample " << k);
    REQUIRE(out[k].mono_ns == in[k].mono_ns);
    REQUIRE(out[k].wall_ns == in[k].wall_ns);
    const std::size_t width = std::max(in[k].counters.size(), out[k].counters.size());
    for (std::size_t c = 0; c < width; ++c) {
      INFO("counter " << c);
      const CounterTotals want = c < in[k].counters.size() && in[k].counters[c].present
                                     ? in[k].counters[c] : CounterTotals{};
      const CounterTotals got = c < out[k].counters.size() ? out[k].counters[c] : CounterTotals{};
      REQUIRE(got == want);
    }
  }
}

}  // namespace

TEST_CASE("regular jittered samples round-trip exactly at 1 ns resolution") {
  require_round_trip(regular(300, 18));
}

TEST_CASE("a single sample is a valid block") { require_round_trip(regular(1, 18)); }

TEST_CASE("a counter that goes backwards (a reset) round-trips as a decrease") {
  auto s = regular(50, 4);
  for (std::size_t k = 20; k < 50; ++k)
    for (auto& c : s[k].counters) c.packets -= s[19].counters[0].packets / 2, c.bytes = k;
  s[20].counters[1] = {0, 0, true};
  require_round_trip(s);
}

TEST_CASE("a counter wrapping past 2^64 round-trips exactly") {
  auto s = regular(10, 2);
  const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t k = 0; k < 10; ++k) {
    s[k].counters[0].packets = top - 20 + 7 * k;  // wraps between k=2 and k=3
    s[k].counters[1].bytes = k % 2 ? top : 0;     // the largest possible swings
  }
  require_round_trip(s);
}

TEST_CASE("gaps and a wall clock jumping backwards and forwards round-trip exactly") {
  auto s = regular(40, 3);
  for (std::size_t k = 10; k < 40; ++k) s[k].mono_ns += 3600 * kSecond;  // one hour without samples
  for (std::size_t k = 20; k < 40; ++k) s[k].wall_ns -= 7200 * kSecond;  // NTP steps back 2 h
  for (std::size_t k = 30; k < 40; ++k) s[k].wall_ns += 86'400 * 365 * kSecond;
  s[35].wall_ns = std::numeric_limits<std::int64_t>::min() / 2;  // nonsense clocks still round-trip
  require_round_trip(s);
}

TEST_CASE("counters appearing mid-block, disappearing and absent in places round-trip") {
  auto s = regular(64, 6);
  for (std::size_t k = 0; k < 64; ++k) {
    if (k < 17) s[k].counters.resize(3);                        // 3..5 appear at sample 17
    if (k >= 40 && s[k].counters.size() > 1) s[k].counters[1].present = false;  // 1 disappears
    if (k % 7 == 3) s[k].counters[0].present = false;            // 0 missing now and then
  }
  s[63].counters.resize(8);  // ids 6 and 7 exist in the catalog but never present
  require_round_trip(s);
}

TEST_CASE("a counter absent from every sample takes no column and decodes as absent") {
  auto s = regular(5, 3);
  for (auto& x : s) x.counters[1].present = false;
  const auto with_absent = encode_block(s);
  for (auto& x : s) x.counters[1] = {};
  CHECK(encode_block(s) == with_absent);
  require_round_trip(s);
}

TEST_CASE("timestamps at microsecond resolution come back floored to the microsecond") {
  const auto in = regular(100, 2);
  const auto out = decode_block(encode_block(in, BlockOptions{.time_unit_ns = 1000, .store_bytes = true, .keep_bytes = {}}));
  for (std::size_t k = 0; k < in.size(); ++k) {
    CHECK(out[k].mono_ns == ctmon::floor_div(in[k].mono_ns, 1000) * 1000);
    CHECK(out[k].wall_ns == ctmon::floor_div(in[k].wall_ns, 1000) * 1000);
    CHECK(out[k].counters == in[k].counters);
  }
}

TEST_CASE("a 300 s block of the synthetic router mix without bytes fits one 4 KiB page") {
  // At the busiest time of day (16:30), with timer jitter, at microsecond timestamps.
  ctmon::store::testing::SyntheticMix mix(kSecond, kT0Wall + 16 * 3600 * kSecond);
  std::vector<Sample> block_samples;
  for (int k = 0; k < 300; ++k) block_samples.push_back(mix.next());
  BlockOptions packets_only;
  packets_only.store_bytes = false;
  const auto block = encode_block(block_samples, packets_only);
  INFO("block bytes: " << block.size());
  CHECK(block.size() < 4061);  // SQLite's largest payload kept on a 4 KiB table leaf page
}

TEST_CASE("every truncation of a block is rejected, never misread") {
  const auto block = encode_block(regular(30, 5));
  for (std::size_t len = 0; len < block.size(); ++len) {
    INFO("length " << len);
    CHECK_THROWS_AS(decode_block(std::span(block.data(), len)), BlockFormatError);
  }
}

TEST_CASE("an unknown format version and trailing garbage are rejected") {
  auto block = encode_block(regular(3, 2));
  auto bad = block;
  bad[0] = 99;
  CHECK_THROWS_AS(decode_block(bad), BlockFormatError);
  block.push_back(0);
  CHECK_THROWS_AS(decode_block(block), BlockFormatError);
}

TEST_CASE("random garbage never crashes the decoder") {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(rng() % 64);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    if (!junk.empty()) junk[0] = kBlockFormatVersion;
    try {
      (void)decode_block(junk);
    } catch (const BlockFormatError&) {
    }
  }
  SUCCEED("no crash, no sanitizer report");
}

TEST_CASE("a few bytes claiming a million samples of counter id 65535 are refused, not allocated") {
  // 24 bytes: 2^20 samples whose time columns are bit width 0, then one column at id 65535 whose
  // packets column is width 0 too. Decoding it would take 2^20 x 2^16 cells (1.5 TB).
  const std::vector<std::uint8_t> block{1, 0, 1, 0x80, 0x80, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        1, 0xff, 0xff, 0x03, 0, 0, 0, 0, 0};
  CHECK_THROWS_WITH(decode_block(block), Catch::Contains("samples x counters"));
  // The same shape within the bound decodes: 2^10 samples of counter id 1023.
  const std::vector<std::uint8_t> fits{1, 0, 1, 0x80, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 0xff, 0x07, 0, 0, 0, 0, 0};
  const auto samples = decode_block(fits);
  REQUIRE(samples.size() == 1024);
  CHECK(samples.back().counters.size() == 1024);
  CHECK(samples.back().counters[1023].present);
}

TEST_CASE("a block written without bytes decodes with bytes 0 and says so") {
  BlockOptions no_bytes;
  no_bytes.store_bytes = false;
  const auto in = regular(40, 4);
  const auto block = encode_block(in, no_bytes);
  CHECK_FALSE(block_has_bytes(block));
  CHECK(block_has_bytes(encode_block(in)));
  const auto out = decode_block(block);
  for (std::size_t k = 0; k < in.size(); ++k)
    for (std::size_t c = 0; c < 4; ++c) {
      CHECK(out[k].counters[c].packets == in[k].counters[c].packets);
      CHECK(out[k].counters[c].bytes == 0);
    }
  CHECK(block.size() < encode_block(in).size());
}

TEST_CASE("a mean counter keeps its bytes (the sum of its values) in a block stored without bytes") {
  const std::vector<Sample> in = regular(300, 6);
  BlockOptions options;
  options.time_unit_ns = 1;
  options.store_bytes = false;
  options.keep_bytes = {0, 0, 0, 1};  // store id 3 is, say, probe_wan_jitter_us
  const auto out = decode_block(encode_block(in, options));
  REQUIRE(out.size() == in.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    INFO("sample " << k);
    for (std::size_t c = 0; c < 6; ++c) {
      CHECK(out[k].counters[c].packets == in[k].counters[c].packets);
      CHECK(out[k].counters[c].bytes == (c == 3 ? in[k].counters[c].bytes : 0));
    }
  }
  CHECK_FALSE(block_has_bytes(encode_block(in, options)));
  // Asking for a counter's own bytes in a block that stores every counter's is one way too many.
  options.store_bytes = true;
  CHECK(decode_block(encode_block(in, options)) == decode_block(encode_block(in, BlockOptions{.time_unit_ns = 1, .store_bytes = true, .keep_bytes = {}})));
}

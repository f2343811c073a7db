#include <catch2/catch.hpp>

#include "monitor/store/database.h"
#include "monitor/store/rollup.h"
#include "monitor/store/sample_reader.h"
#include "monitor/store/sample_writer.h"
#include "monitor/store/sqlite_handle.h"
#include "synthetic_mix.h"
#include "temp_dir.h"

using namespace ctmon;
using namespace ctmon::store;
using ctmon::store::testing::SyntheticMix;
using ctmon::store::testing::TempDir;

namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kWall0 = 1'764'201'600 * kS;

// Small rings so tests wrap them quickly: 10 s blocks, 60 s raw retention (6 slots),
// 2-minute rollup blocks kept 10 minutes (5 slots). Exact ns timestamps, bytes stored.
SampleWriterOptions small_rings() {
  SampleWriterOptions o;
  o.commit_interval_s = 10;
  o.retention_raw_s = 60;
  o.rollup_step_s = 60;
  o.rollup_block_s = 120;
  o.retention_rollup_s = 600;
  o.retry_interval_s = 5;
  o.time_unit_ns = 1;
  o.bytes = BytesPolicy::kAlways;
  return o;
}

std::int64_t query_int(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  REQUIRE(st.step());
  return st.int64(0);
}

// Feeds `n` samples, committing whenever due, as the daemon loop does. Returns what was fed.
std::vector<Sample> feed(SampleWriter& w, SyntheticMix& mix, int n) {
  std::vector<Sample> fed;
  for (int k = 0; k < n; ++k) {
    fed.push_back(mix.next());
    w.append(fed.back(), mix.catalog());
    if (w.commit_due(fed.back().mono_ns)) REQUIRE(w.commit(fed.back().mono_ns).condition == CommitCondition::kOk);
  }
  return fed;
}

// The samples as the reader names them: counters re-indexed by name through the catalogs.
void require_same(const Sample& got, const CounterCatalog& got_cat, const Sample& want, const CounterCatalog& want_cat) {
  REQUIRE(got.mono_ns == want.mono_ns);
  REQUIRE(got.wall_ns == want.wall_ns);
  for (CounterId i = 0; i < want_cat.size(); ++i) {
    const CounterId j = got_cat.find(want_cat.name(i));
    const CounterTotals w = i < want.counters.size() ? want.counters[i] : CounterTotals{};
    const CounterTotals g = j < got.counters.size() ? got.counters[j] : CounterTotals{};
    INFO(want_cat.name(i));
    REQUIRE(g == (w.present ? w : CounterTotals{}));
  }
}

}  // namespace

TEST_CASE("append alone writes nothing; a block spanning commit_interval makes a commit due") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriter w(db, small_rings());
  SyntheticMix mix(kS, kWall0);
  for (int k = 0; k < 10; ++k) {
    const Sample s = mix.next();
    w.append(s, mix.catalog());
    CHECK_FALSE(w.commit_due(s.mono_ns));
  }
  CHECK(query_int(db.handle(), "SELECT count(*) FROM raw_blocks") == 0);
  const Sample s = mix.next();  // 10 s after the first: seals the first block
  w.append(s, mix.catalog());
  CHECK(w.commit_due(s.mono_ns));
  const CommitResult r = w.commit(s.mono_ns);
  CHECK(r.condition == CommitCondition::kOk);
  CHECK(r.raw_blocks_written == 1);
  CHECK(r.samples_in_ram == 1);
  CHECK(query_int(db.handle(), "SELECT n FROM raw_blocks") == 10);
}

TEST_CASE("committed samples read back exactly, in order, with their counter names") {
  TempDir dir;
  std::vector<Sample> fed;
  SyntheticMix mix(kS, kWall0);
  {
    Database db = Database::open(dir / "ctmon.db");
    SampleWriter w(db, small_rings());
    fed = feed(w, mix, 45);
    REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  }
  const Database db = Database::open(dir / "ctmon.db", reader_options());
  const Series got = SampleReader(db).read();
  REQUIRE(got.samples.size() == fed.size());
  CHECK(got.first_raw == 0);
  CHECK(got.bytes_stored);
  CHECK(got.run_starts == std::vector<std::size_t>{0});
  for (std::size_t k = 0; k < fed.size(); ++k) require_same(got.samples[k], got.catalog, fed[k], mix.catalog());

  SECTION("a wall-time range selects exactly the samples inside it") {
    const Series part = SampleReader(db).read(fed[12].wall_ns, fed[30].wall_ns);
    REQUIRE(part.samples.size() == 18);
    CHECK(part.samples.front().mono_ns == fed[12].mono_ns);
    CHECK(part.samples.back().mono_ns == fed[29].mono_ns);
  }
}

TEST_CASE("flush writes the block in progress and the next commit rewrites it without duplicates") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriter w(db, small_rings());
  SyntheticMix mix(kS, kWall0);
  auto fed = feed(w, mix, 4);
  REQUIRE(w.flush(fed.back().mono_ns).raw_blocks_written == 1);
  CHECK(SampleReader(db).read().samples.size() == 4);
  const auto more = feed(w, mix, 20);
  fed.insert(fed.end(), more.begin(), more.end());
  REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  const Series got = SampleReader(db).read();
  REQUIRE(got.samples.size() == 24);
  for (std::size_t k = 0; k < fed.size(); ++k) CHECK(got.samples[k].mono_ns == fed[k].mono_ns);
}

TEST_CASE("retention keeps exactly the configured raw window and the file size is steady after wrap") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  const SampleWriterOptions o = small_rings();
  SampleWriter w(db, o);
  CHECK(w.raw_slots() == 6);
  SyntheticMix mix(kS, kWall0);
  auto fed = feed(w, mix, 15 * 60 + 1);  // 15 min: both rings wrapped (raw 1 min, rollups 10)
  CHECK(query_int(db.handle(), "SELECT count(*) FROM raw_blocks") == 6);
  CHECK(query_int(db.handle(), "SELECT count(*) FROM rollup_blocks") == 5);
  // The raw part holds the newest 60 s of committed samples, no more, no less.
  const Series got = SampleReader(db).read();
  const std::size_t raw = got.samples.size() - got.first_raw;
  CHECK(raw == static_cast<std::size_t>(o.retention_raw_s));
  // Committed: all but the open block's single sample.
  CHECK(got.samples.back().mono_ns == fed[fed.size() - 2].mono_ns);
  CHECK(got.samples[got.first_raw].mono_ns == fed[fed.size() - 2 - 59].mono_ns);

  exec(db.handle(), "PRAGMA wal_checkpoint(TRUNCATE)");
  const auto pages = query_int(db.handle(), "PRAGMA page_count");
  const auto size = std::filesystem::file_size(dir / "ctmon.db");
  fed = feed(w, mix, 20 * 60);  // two more rollup retentions
  exec(db.handle(), "PRAGMA wal_checkpoint(TRUNCATE)");
  CHECK(query_int(db.handle(), "PRAGMA page_count") == pages);
  CHECK(std::filesystem::file_size(dir / "ctmon.db") == size);
  CHECK(query_int(db.handle(), "SELECT count(*) FROM raw_blocks") == 6);
}

TEST_CASE("minute rollups stand in for raw samples that aged out and keep resets and jumps") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriter w(db, small_rings());
  // A reset at 200 s; the wall clock steps back 1 h at 300 s.
  SyntheticMix mix(kS, kWall0, 3, kWall0 + 200 * kS);
  std::vector<Sample> fed;
  for (int k = 0; k < 9 * 60; ++k) {
    Sample s = mix.next();
    if (k >= 300) s.wall_ns -= 3600 * kS;
    w.append(s, mix.catalog());
    if (w.commit_due(s.mono_ns)) REQUIRE(w.commit(s.mono_ns).condition == CommitCondition::kOk);
    fed.push_back(s);
  }
  REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  const Series got = SampleReader(db).read();
  REQUIRE(got.first_raw > 0);
  // Every rollup sample is one of the fed samples, unchanged, in stream order.
  std::size_t j = 0;
  for (std::size_t k = 0; k < got.first_raw; ++k) {
    while (j < fed.size() && fed[j].mono_ns != got.samples[k].mono_ns) ++j;
    REQUIRE(j < fed.size());
    require_same(got.samples[k], got.catalog, fed[j], mix.catalog());
  }
  // Roughly one per minute, plus the samples around the reset and the clock step.
  CHECK(got.first_raw >= 7);
  CHECK(got.first_raw <= 7 + 4 + 2);
  auto kept = [&](std::size_t idx) {
    for (std::size_t k = 0; k < got.first_raw; ++k)
      if (got.samples[k].mono_ns == fed[idx].mono_ns) return true;
    return false;
  };
  CHECK(kept(199));  // last before the reset
  CHECK(kept(200));  // first after it
  CHECK(kept(299));
  CHECK(kept(300));
  // The raw part continues the stream right after the rollups.
  CHECK(got.samples[got.first_raw].mono_ns > got.samples[got.first_raw - 1].mono_ns);
}

TEST_CASE("a database locked by another writer keeps samples in RAM, reports once, and recovers") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriterOptions o = small_rings();
  o.retention_raw_s = 600;  // the whole test fits in the ring
  SampleWriter w(db, o);
  SyntheticMix mix(kS, kWall0);
  std::vector<Sample> fed = feed(w, mix, 11);  // first block committed

  Database other = Database::open(dir / "ctmon.db");
  auto lock = std::make_unique<Transaction>(other.handle());  // holds the write lock
  int reported = 0;
  for (int k = 0; k < 60; ++k) {
    fed.push_back(mix.next());
    w.append(fed.back(), mix.catalog());
    if (w.commit_due(fed.back().mono_ns)) {
      const CommitResult r = w.commit(fed.back().mono_ns);
      CHECK(r.condition == CommitCondition::kBusy);
      reported += r.changed;
    }
  }
  CHECK(reported == 1);
  CHECK(w.stats().samples_in_ram >= 50);
  CHECK(w.stats().commits_failed >= 2);
  lock.reset();  // the other process lets go

  const std::int64_t later = fed.back().mono_ns + 6 * kS;
  REQUIRE(w.commit_due(later));
  const CommitResult r = w.commit(later);
  CHECK(r.condition == CommitCondition::kOk);
  CHECK(r.changed);  // recovery is reported too
  REQUIRE(w.flush(later).condition == CommitCondition::kOk);
  const Series got = SampleReader(db).read();
  REQUIRE(got.samples.size() == fed.size());
  for (std::size_t k = 0; k < fed.size(); ++k) CHECK(got.samples[k].mono_ns == fed[k].mono_ns);
}

TEST_CASE("past the RAM bound the oldest raw blocks are dropped first and counted") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriterOptions o = small_rings();
  o.max_pending_bytes = 6000;  // about three 10-sample blocks
  SampleWriter w(db, o);
  SyntheticMix mix(kS, kWall0);
  Database other = Database::open(dir / "ctmon.db");
  Transaction lock(other.handle());
  Sample s;
  for (int k = 0; k < 200; ++k) {
    s = mix.next();
    w.append(s, mix.catalog());
    if (w.commit_due(s.mono_ns)) (void)w.commit(s.mono_ns);
  }
  const WriterStats st = w.stats();
  CHECK(st.samples_dropped > 0);
  CHECK(st.pending_bytes <= o.max_pending_bytes);
  CHECK(st.samples_in_ram + st.samples_dropped == 200);
}

TEST_CASE("counters appearing mid-run, absent, and renumbered after a restart read back by name") {
  TempDir dir;
  SyntheticMix mix(kS, kWall0);
  std::vector<Sample> fed;
  CounterCatalog cat_a;  // first run sees only two counters, the second in a different order
  {
    Database db = Database::open(dir / "ctmon.db");
    SampleWriter w(db, small_rings());
    cat_a.intern("udp_conntrack_fwd_new");
    cat_a.intern("tcp_conntrack_fwd_new");
    for (int k = 0; k < 15; ++k) {
      Sample m = mix.next();
      Sample s{m.mono_ns, m.wall_ns, {m.counters[15], m.counters[6]}};
      if (k == 7) s.counters[1].present = false;
      w.append(s, cat_a);
      fed.push_back(s);
    }
    if (true) {
      cat_a.intern("tcp_conntrack_fwd_invalid");  // appears mid-run
      Sample m = mix.next();
      Sample s{m.mono_ns, m.wall_ns, {m.counters[15], m.counters[6], m.counters[8]}};
      w.append(s, cat_a);
      fed.push_back(s);
    }
    REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  }
  const std::size_t first_run = fed.size();
  {
    Database db = Database::open(dir / "ctmon.db");
    SampleWriter w(db, small_rings());
    CHECK(w.stats().run == 2);
    for (int k = 0; k < 12; ++k) {
      Sample m = mix.next();
      w.append(m, mix.catalog());  // the full catalog, in its own order
      fed.push_back(m);
    }
    REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  }
  const Database db = Database::open(dir / "ctmon.db", reader_options());
  const Series got = SampleReader(db).read();
  REQUIRE(got.samples.size() == fed.size());
  CHECK(got.catalog.size() == 18);
  CHECK(got.catalog.name(0) == "udp_conntrack_fwd_new");
  CHECK(got.run_starts == std::vector<std::size_t>{0, first_run});
  for (std::size_t k = 0; k < first_run; ++k) require_same(got.samples[k], got.catalog, fed[k], cat_a);
  for (std::size_t k = first_run; k < fed.size(); ++k) require_same(got.samples[k], got.catalog, fed[k], mix.catalog());
}

TEST_CASE("rollups rebuilt from the raw ring are the ones the writer made live") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  SampleWriterOptions o = small_rings();
  o.retention_raw_s = 600;  // the raw ring covers the whole test
  o.retention_rollup_s = 3600;
  SampleWriter w(db, o);
  SyntheticMix mix(kS, kWall0, 5, kWall0 + 250 * kS);
  auto fed = feed(w, mix, 9 * 60);
  REQUIRE(w.flush(fed.back().mono_ns).condition == CommitCondition::kOk);
  auto rollup_monos = [&] {
    std::vector<std::int64_t> out;
    Statement st(db.handle(), "SELECT data FROM rollup_blocks ORDER BY first_raw_seq, seq");
    while (st.step())
      for (const Sample& s : decode_block(st.blob(0))) out.push_back(s.mono_ns);
    return out;
  };
  const auto live = rollup_monos();
  REQUIRE(live.size() >= 9);
  CHECK(rebuild_rollups(db, o.rollup_block_s, o.retention_rollup_s, o.time_unit_ns) >= 1);
  const auto rebuilt = rollup_monos();
  CHECK(rebuilt == live);
}

TEST_CASE("by default bytes are kept when the block fits one page: at 5 s yes, at 1 s no") {
  TempDir dir;
  for (const std::int64_t interval_s : {1, 5}) {
    Database db = Database::open(dir.path() / ("ctmon" + std::to_string(interval_s) + ".db"));
    SampleWriter w(db, SampleWriterOptions{});
    SyntheticMix mix(interval_s * kS, kWall0 + 16 * 3600 * kS);  // the busiest hour
    Sample s;
    for (std::int64_t k = 0; k <= 300 / interval_s; ++k) {
      s = mix.next();
      w.append(s, mix.catalog());
    }
    REQUIRE(w.commit(s.mono_ns).raw_blocks_written == 1);
    Statement st(db.handle(), "SELECT data FROM raw_blocks");
    REQUIRE(st.step());
    INFO("interval " << interval_s << " s, block " << st.blob(0).size() << " bytes");
    CHECK(st.blob(0).size() <= kPageFitBytes);
    CHECK(block_has_bytes(st.blob(0)) == (interval_s == 5));
    CHECK(SampleReader(db).read().bytes_stored == (interval_s == 5));
  }
}

#include "monitor/store/sample_reader.h"

#include "monitor/store/block_codec.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {
namespace {

// A read transaction that ends (without changes) when it goes out of scope.
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN"); }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() { sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr); }

 private:
  sqlite3* db_;
};

}  // namespace

Series SampleReader::read(std::int64_t since, std::int64_t until) const {
  sqlite3* h = db_.handle();
  ReadTransaction tx(h);
  Series out;
  Statement names(h, "SELECT id, name FROM counters ORDER BY id");
  while (names.step()) {
    if (names.int64(0) != static_cast<std::int64_t>(out.catalog.size()))
      throw SqliteError(SQLITE_CORRUPT, "counters table ids are not 0..n-1");
    out.catalog.intern(names.text(1));
  }
  const std::size_t width = out.catalog.size();
  std::int64_t last_run = -1;
  auto add = [&](Sample&& s, std::int64_t run) {
    if (s.wall_ns < since || s.wall_ns >= until) return;
    if (s.counters.size() > width) throw SqliteError(SQLITE_CORRUPT, "block names an unknown counter");
    s.counters.resize(width);
    if (run != last_run) out.run_starts.push_back(out.samples.size());
    last_run = run;
    out.samples.push_back(std::move(s));
  };

  // Where the raw ring starts: rollups are used only before this point of the stream.
  Statement oldest(h, "SELECT seq, run, data FROM raw_blocks ORDER BY seq LIMIT 1");
  std::int64_t oldest_seq = std::numeric_limits<std::int64_t>::max(), oldest_run = -1;
  std::int64_t oldest_mono = std::numeric_limits<std::int64_t>::max();
  if (oldest.step()) {
    oldest_seq = oldest.int64(0);
    oldest_run = oldest.int64(1);
    oldest_mono = decode_block(oldest.blob(2)).front().mono_ns;
  }

  Statement roll(h, "SELECT run, last_raw_seq, data FROM rollup_blocks WHERE first_raw_seq <= ? "
                    "AND max_wall_ns >= ? AND min_wall_ns < ? ORDER BY first_raw_seq, seq");
  roll.bind(1, oldest_seq).bind(2, since).bind(3, until);
  std::int64_t prev_mono = std::numeric_limits<std::int64_t>::min();
  while (roll.step()) {
    const std::int64_t run = roll.int64(0);
    const bool straddles = roll.int64(1) >= oldest_seq;
    if (run != last_run) prev_mono = std::numeric_limits<std::int64_t>::min();
    if (!block_has_bytes(roll.blob(2))) out.bytes_stored = false;
    for (Sample& s : decode_block(roll.blob(2))) {
      if (straddles && run == oldest_run && s.mono_ns >= oldest_mono) break;
      if (s.mono_ns <= prev_mono && run == last_run) continue;  // overlap of a rebuilt rollup
      prev_mono = s.mono_ns;
      add(std::move(s), run);
    }
  }
  out.first_raw = out.samples.size();

  Statement raw(h, "SELECT run, data FROM raw_blocks WHERE max_wall_ns >= ? AND min_wall_ns < ? ORDER BY seq");
  raw.bind(1, since).bind(2, until);
  while (raw.step()) {
    const std::int64_t run = raw.int64(0);
    if (!block_has_bytes(raw.blob(1))) out.bytes_stored = false;
    for (Sample& s : decode_block(raw.blob(1))) add(std::move(s), run);
  }
  return out;
}

SampleExtent SampleReader::extent() const {
  sqlite3* h = db_.handle();
  ReadTransaction tx(h);
  SampleExtent e;
  Statement raw(h, "SELECT count(*), min(min_wall_ns), max(max_wall_ns) FROM raw_blocks");
  raw.step();
  e.raw_blocks = raw.int64(0);
  if (!raw.is_null(1)) e.oldest_raw_wall_ns = raw.int64(1), e.newest_raw_wall_ns = raw.int64(2);
  Statement roll(h, "SELECT count(*), min(min_wall_ns) FROM rollup_blocks");
  roll.step();
  e.rollup_blocks = roll.int64(0);
  if (!roll.is_null(1)) e.oldest_rollup_wall_ns = roll.int64(1);
  return e;
}

}  // namespace ctmon::store

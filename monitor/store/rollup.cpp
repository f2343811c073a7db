#include "monitor/store/rollup.h"


#include <algorithm>

#include "core/measurement.h"
#include "monitor/store/block_codec.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

bool is_discontinuity(const Sample& a, const Sample& b, std::int64_t prev_step_ns) {
  const std::int64_t step = b.mono_ns - a.mono_ns;
  if (step < 0) return true;
  if (prev_step_ns > 0 && step > 3 * prev_step_ns) return true;
  const std::int64_t offset_change = (b.wall_ns - b.mono_ns) - (a.wall_ns - a.mono_ns);
  if (offset_change > kWallJumpNs || offset_change < -kWallJumpNs) return true;
  const std::size_t n = std::max(a.counters.size(), b.counters.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool pa = i < a.counters.size() && a.counters[i].present;
    const bool pb = i < b.counters.size() && b.counters[i].present;
    if (pa != pb) return true;
    if (pa && (b.counters[i].packets < a.counters[i].packets || b.counters[i].bytes < a.counters[i].bytes))
      return true;
  }
  return false;
}

void RollupThinner::push(const Sample& s, std::vector<Sample>& out) {
  if (prev_) {
    const bool jump = is_discontinuity(*prev_, s, prev_step_ns_);
    const bool minute_ends = floor_div(prev_->mono_ns, step_ns_) != floor_div(s.mono_ns, step_ns_);
    if (keep_prev_ || jump || minute_ends) out.push_back(*prev_);
    keep_prev_ = jump;
    prev_step_ns_ = s.mono_ns - prev_->mono_ns;
  }
  prev_ = s;
}

std::size_t rebuild_rollups(Database& db, std::int64_t rollup_block_s, std::int64_t retention_rollup_s,
                            std::int64_t time_unit_ns) {
  sqlite3* h = db.handle();
  const std::int64_t slots = (retention_rollup_s + rollup_block_s - 1) / rollup_block_s;
  const std::int64_t block_ns = rollup_block_s * 1'000'000'000;
  Transaction tx(h);
  Statement raw(h, "SELECT seq, run, data FROM raw_blocks ORDER BY seq");
  Statement max_seq(h, "SELECT coalesce(max(seq), -1) FROM rollup_blocks");
  max_seq.step();
  std::int64_t seq = max_seq.int64(0) + 1;
  Statement put(h, "INSERT OR REPLACE INTO rollup_blocks (slot, seq, run, first_raw_seq, last_raw_seq, n, "
                   "min_wall_ns, max_wall_ns, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  std::int64_t oldest_raw = -1;
  std::size_t written = 0;
  RollupThinner thinner;
  std::vector<Sample> block;
  std::int64_t run = -1, first_raw = 0, last_raw = 0;
  bool bytes = true;  // rollups claim bytes only when every source block had them
  // ... except a mean counter's, which every block keeps (block_codec.h: keep_bytes).
  std::vector<std::uint8_t> keep_bytes;
  Statement names(h, "SELECT id, name FROM counters");
  while (names.step()) {
    const auto id = static_cast<std::size_t>(names.int64(0));
    if (counter_meaning(names.text(1)) != CounterMeaning::mean || id > kMaxBlockCounters) continue;
    if (keep_bytes.size() <= id) keep_bytes.resize(id + 1, 0);
    keep_bytes[id] = 1;
  }
  auto emit = [&] {
    if (block.empty()) return;
    const auto data =
        encode_block(block, BlockOptions{.time_unit_ns = time_unit_ns, .store_bytes = bytes, .keep_bytes = keep_bytes});
    auto [lo, hi] = std::minmax_element(block.begin(), block.end(),
                                        [](const Sample& a, const Sample& b) { return a.wall_ns < b.wall_ns; });
    put.reset();
    put.bind(1, seq % slots).bind(2, seq).bind(3, run).bind(4, first_raw).bind(5, last_raw)
        .bind(6, static_cast<std::int64_t>(block.size())).bind(7, lo->wall_ns).bind(8, hi->wall_ns)
        .bind_blob(9, data);
    put.run();
    ++seq, ++written;
    block.clear();
  };
  std::vector<Sample> kept;
  while (raw.step()) {
    if (!block_has_bytes(raw.blob(2))) bytes = false;
    const std::int64_t raw_seq = raw.int64(0), raw_run = raw.int64(1);
    if (oldest_raw < 0) oldest_raw = raw_seq;
    if (raw_run != run) {  // a new run restarts the monotonic clock: close the stream
      if (const auto& p = thinner.pending()) block.push_back(*p);
      emit();
      thinner.reset();
      run = raw_run;
      first_raw = raw_seq;
    }
    for (const Sample& s : decode_block(raw.blob(2))) {
      kept.clear();
      thinner.push(s, kept);
      for (Sample& k : kept) {
        if (!block.empty() && k.mono_ns - block.front().mono_ns >= block_ns) {
          emit();
          first_raw = raw_seq;
        }
        block.push_back(std::move(k));
        last_raw = raw_seq;
      }
    }
    last_raw = raw_seq;
  }
  if (const auto& p = thinner.pending()) block.push_back(*p);
  emit();
  if (oldest_raw >= 0) {
    // Old rollups made wholly from raw blocks still in the ring are superseded by the new ones.
    Statement del(h, "DELETE FROM rollup_blocks WHERE first_raw_seq >= ? AND seq < ?");
    del.bind(1, oldest_raw).bind(2, seq - static_cast<std::int64_t>(written));
    del.run();
  }
  tx.commit();
  return written;
}

}  // namespace ctmon::store

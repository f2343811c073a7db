#include "monitor/store/sample_writer.h"


#include <algorithm>
#include <stdexcept>

#include "core/measurement.h"
#include "core/time.h"
#include "monitor/store/block_codec.h"
#include "monitor/store/counting_vfs.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {
namespace {


CommitCondition classify(const SqliteError& e) {
  switch (e.code()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return CommitCondition::kBusy;
    case SQLITE_FULL: return CommitCondition::kDiskFull;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY: return CommitCondition::kIoError;
    default: return CommitCondition::kOtherError;
  }
}

template <class Blocks>
std::size_t samples_in(const Blocks& blocks) {
  std::size_t n = 0;
  for (const auto& b : blocks) n += static_cast<std::size_t>(b.n);
  return n;
}

}  // namespace

const char* to_string(CommitCondition c) {
  switch (c) {
    case CommitCondition::kOk: return "ok";
    case CommitCondition::kBusy: return "database locked by another process";
    case CommitCondition::kDiskFull: return "disk full";
    case CommitCondition::kIoError: return "I/O error";
    case CommitCondition::kOtherError: return "database error";
  }
  return "?";
}

SampleWriter::SampleWriter(Database& db, SampleWriterOptions options) : db_(db), opt_(options) {
  if (opt_.commit_interval_s < 1 || opt_.retention_raw_s < opt_.commit_interval_s ||
      opt_.rollup_step_s < 1 || opt_.rollup_block_s < opt_.rollup_step_s ||
      opt_.retention_rollup_s < opt_.rollup_block_s || opt_.max_samples_per_block < 2 ||
      opt_.retry_interval_s < 0 || opt_.time_unit_ns < 1)
    throw std::invalid_argument("SampleWriter: inconsistent retention/interval options");
  if (db.mode() != AccessMode::kReadWrite)
    throw std::invalid_argument("SampleWriter: the database is open read-only");
  commit_interval_ns_ = opt_.commit_interval_s * kNsPerS;
  rollup_block_ns_ = opt_.rollup_block_s * kNsPerS;
  retry_interval_ns_ = opt_.retry_interval_s * kNsPerS;
  raw_slots_ = (opt_.retention_raw_s + opt_.commit_interval_s - 1) / opt_.commit_interval_s;
  rollup_slots_ = (opt_.retention_rollup_s + opt_.rollup_block_s - 1) / opt_.rollup_block_s;
  thinner_ = RollupThinner(opt_.rollup_step_s * kNsPerS);

  sqlite3* h = db_.handle();
  Statement names(h, "SELECT id, name FROM counters ORDER BY id");
  while (names.step()) {
    if (names.int64(0) != static_cast<std::int64_t>(store_names_.size()))
      throw SqliteError(SQLITE_CORRUPT, "counters table ids are not 0..n-1");
    store_ids_.emplace(names.text(1), static_cast<std::uint32_t>(store_names_.size()));
    store_names_.push_back(names.text(1));
  }
  unsaved_names_from_ = store_names_.size();
  Statement last(h, "SELECT (SELECT coalesce(max(seq), -1) FROM raw_blocks), "
                    "(SELECT coalesce(max(seq), -1) FROM rollup_blocks), "
                    "max((SELECT coalesce(max(run), 0) FROM raw_blocks), "
                    "    (SELECT coalesce(max(run), 0) FROM rollup_blocks), "
                    "    coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_run'), 0))");
  last.step();
  raw_.seq = last.int64(0) + 1;
  rollup_.seq = last.int64(1) + 1;
  run_ = last.int64(2) + 1;
  rollup_.first_raw_seq = rollup_.last_raw_seq = raw_.seq;
  io_mark_ = io_counters().total_bytes();
}

std::uint32_t SampleWriter::store_id(const std::string& name) {
  if (const auto it = store_ids_.find(name); it != store_ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(store_names_.size());
  store_names_.push_back(name);
  store_ids_.emplace(name, id);
  return id;
}

void SampleWriter::append(const Sample& sample, const CounterCatalog& catalog) {
  while (catalog_to_store_.size() < catalog.size()) {
    const std::string& name = catalog.name(static_cast<CounterId>(catalog_to_store_.size()));
    const std::uint32_t id = store_id(name);
    catalog_to_store_.push_back(id);
    // A mean counter's bytes are the sum of its values: kept whatever the bytes policy says.
    if (counter_meaning(name) == CounterMeaning::mean) {
      if (keep_bytes_.size() <= id) keep_bytes_.resize(id + 1, 0);
      keep_bytes_[id] = 1;
    }
  }

  Sample s;
  s.mono_ns = sample.mono_ns;
  s.wall_ns = sample.wall_ns;
  for (std::size_t i = 0; i < sample.counters.size() && i < catalog_to_store_.size(); ++i) {
    if (!sample.counters[i].present) continue;
    const std::uint32_t id = catalog_to_store_[i];
    if (s.counters.size() <= id) s.counters.resize(id + 1);
    s.counters[id] = sample.counters[i];
  }

  if (!raw_.samples.empty()) {
    // A block takes the samples of commit_interval_s: with half a step of tolerance, so timer
    // jitter never decides whether a block gets 300 or 301 samples at 1 s.
    const std::int64_t step = s.mono_ns - raw_.samples.back().mono_ns;
    if (s.mono_ns - raw_.samples.front().mono_ns + step / 2 >= commit_interval_ns_ || step < 0 ||
        raw_.samples.size() >= opt_.max_samples_per_block)
      seal_raw();
  }
  raw_.samples.push_back(s);

  thinned_.clear();
  thinner_.push(s, thinned_);
  for (Sample& k : thinned_) {
    if (!rollup_.samples.empty() &&
        (k.mono_ns - rollup_.samples.front().mono_ns >= rollup_block_ns_ ||
         rollup_.samples.size() >= opt_.max_samples_per_block))
      seal_rollup();
    if (rollup_.samples.empty()) rollup_.first_raw_seq = rollup_.last_raw_seq;
    rollup_.samples.push_back(std::move(k));
  }
  rollup_.last_raw_seq = raw_.seq;
}

SampleWriter::SealedBlock SampleWriter::seal(const OpenBlock& b) const {
  SealedBlock out;
  out.seq = b.seq;
  out.n = static_cast<std::int64_t>(b.samples.size());
  const auto [lo, hi] = std::minmax_element(b.samples.begin(), b.samples.end(),
                                            [](const Sample& x, const Sample& y) { return x.wall_ns < y.wall_ns; });
  out.min_wall_ns = lo->wall_ns;
  out.max_wall_ns = hi->wall_ns;
  out.first_raw_seq = b.first_raw_seq;
  out.last_raw_seq = b.last_raw_seq;
  BlockOptions bo{.time_unit_ns = opt_.time_unit_ns, .store_bytes = opt_.bytes != BytesPolicy::kNever,
                  .keep_bytes = keep_bytes_};
  out.data = encode_block(b.samples, bo);
  if (opt_.bytes == BytesPolicy::kWhenBlockFitsPage && out.data.size() > kPageFitBytes) {
    bo.store_bytes = false;  // a second page per commit would cost more than the bytes are worth
    out.data = encode_block(b.samples, bo);
  }
  return out;
}

void SampleWriter::seal_raw() {
  SealedBlock b = seal(raw_);
  b.io_bytes = open_io_bytes_;
  open_io_bytes_ = 0;
  sealed_raw_.push_back(std::move(b));
  raw_.samples.clear();
  raw_.written_samples = 0;
  ++raw_.seq;
  enforce_ram_bound();
}

void SampleWriter::seal_rollup() {
  sealed_rollup_.push_back(seal(rollup_));
  rollup_.samples.clear();
  rollup_.written_samples = 0;
  ++rollup_.seq;
  rollup_.first_raw_seq = rollup_.last_raw_seq;
  enforce_ram_bound();
}

void SampleWriter::enforce_ram_bound() {
  auto bytes = [](const std::deque<SealedBlock>& d) {
    std::size_t n = 0;
    for (const auto& b : d) n += b.data.size();
    return n;
  };
  std::size_t total = bytes(sealed_raw_) + bytes(sealed_rollup_);
  // Oldest raw first: their minute rollups (tiny) survive, so the period stays covered.
  while (total > opt_.max_pending_bytes && !sealed_raw_.empty()) {
    total -= sealed_raw_.front().data.size();
    samples_dropped_ += static_cast<std::size_t>(sealed_raw_.front().n);
    sealed_raw_.pop_front();
  }
  while (total > opt_.max_pending_bytes && !sealed_rollup_.empty()) {
    total -= sealed_rollup_.front().data.size();
    sealed_rollup_.pop_front();
  }
}

bool SampleWriter::commit_due(std::int64_t now_mono_ns) const {
  if (last_failed_ && now_mono_ns < next_retry_mono_ns_) return false;
  if (!sealed_raw_.empty()) return true;
  return raw_.samples.size() > raw_.written_samples &&
         now_mono_ns - raw_.samples.front().mono_ns >= commit_interval_ns_;
}

CommitResult SampleWriter::commit(std::int64_t now_mono_ns) {
  const bool stalled = raw_.samples.size() > raw_.written_samples && !raw_.samples.empty() &&
                       now_mono_ns - raw_.samples.front().mono_ns >= commit_interval_ns_;
  return write(now_mono_ns, stalled);
}

CommitResult SampleWriter::flush(std::int64_t now_mono_ns) { return write(now_mono_ns, true); }

CommitResult SampleWriter::write(std::int64_t now_mono_ns, bool include_open) {
  CommitResult r;
  // What goes into this transaction. The open blocks are encoded as they are now; the rollup
  // one with the sample the thinner holds back, so a shutdown loses nothing.
  std::vector<const SealedBlock*> raws, rollups;
  for (const auto& b : sealed_raw_) raws.push_back(&b);
  for (const auto& b : sealed_rollup_) rollups.push_back(&b);
  SealedBlock open_raw, open_rollup;
  const bool write_open_raw = include_open && raw_.samples.size() > raw_.written_samples;
  if (write_open_raw) {
    open_raw = seal(raw_);
    raws.push_back(&open_raw);
  }
  if (include_open) {
    OpenBlock view = rollup_;
    if (const auto& p = thinner_.pending()) {
      view.samples.push_back(*p);
      view.last_raw_seq = raw_.seq;
    }
    if (!view.samples.empty()) {
      open_rollup = seal(view);
      rollups.push_back(&open_rollup);
    }
  }
  const bool new_names = store_names_.size() > unsaved_names_from_;
  if (raws.empty() && rollups.empty() && !new_names) {
    r.samples_in_ram = stats().samples_in_ram;
    r.samples_dropped = samples_dropped_;
    return r;  // nothing to do is not a condition change
  }

  const std::uint64_t io_now = io_counters().total_bytes();
  const std::uint64_t io_delta = io_now - io_mark_;
  sqlite3* h = db_.handle();
  try {
    Transaction tx(h);
    if (new_names) {
      Statement put(h, "INSERT INTO counters (id, name) VALUES (?, ?)");
      for (std::size_t id = unsaved_names_from_; id < store_names_.size(); ++id) {
        put.reset();
        put.bind(1, static_cast<std::int64_t>(id)).bind(2, store_names_[id]).run();
      }
    }
    if (!first_commit_done_) {
      // Once per run: record it, and drop slots beyond the ring if retention was shortened.
      Statement meta(h, "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_run', ?)");
      meta.bind(1, run_).run();
      Statement first(h, "INSERT OR IGNORE INTO meta (key, value) VALUES ('first_sample_wall_ns', ?)");
      const auto& src = !sealed_raw_.empty() ? sealed_raw_.front() : open_raw;
      if (!raws.empty()) first.bind(1, src.min_wall_ns).run();
      Statement trim(h, "DELETE FROM raw_blocks WHERE slot >= ?");
      trim.bind(1, raw_slots_).run();
      Statement trim2(h, "DELETE FROM rollup_blocks WHERE slot >= ?");
      trim2.bind(1, rollup_slots_).run();
    }
    Statement put_raw(h, "INSERT OR REPLACE INTO raw_blocks (slot, seq, run, n, min_wall_ns, max_wall_ns, "
                         "io_bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (std::size_t i = 0; i < raws.size(); ++i) {
      const SealedBlock& b = *raws[i];
      const bool newest = i + 1 == raws.size();
      put_raw.reset();
      put_raw.bind(1, b.seq % raw_slots_).bind(2, b.seq).bind(3, run_).bind(4, b.n)
          .bind(5, b.min_wall_ns).bind(6, b.max_wall_ns)
          .bind(7, static_cast<std::int64_t>(b.io_bytes + (write_open_raw && newest ? open_io_bytes_ : 0) +
                                             (newest ? io_delta : 0)))
          .bind_blob(8, b.data)
          .run();
    }
    Statement put_rollup(h, "INSERT OR REPLACE INTO rollup_blocks (slot, seq, run, first_raw_seq, "
                            "last_raw_seq, n, min_wall_ns, max_wall_ns, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const SealedBlock* b : rollups) {
      put_rollup.reset();
      put_rollup.bind(1, b->seq % rollup_slots_).bind(2, b->seq).bind(3, run_).bind(4, b->first_raw_seq)
          .bind(5, b->last_raw_seq).bind(6, b->n).bind(7, b->min_wall_ns).bind(8, b->max_wall_ns)
          .bind_blob(9, b->data)
          .run();
    }
    tx.commit();
  } catch (const SqliteError& e) {
    r.condition = classify(e);
    r.message = e.what();
    r.changed = !last_failed_ || r.condition != last_condition_;
    last_failed_ = true;
    last_condition_ = r.condition;
    next_retry_mono_ns_ = now_mono_ns + retry_interval_ns_;
    ++commits_failed_;
    enforce_ram_bound();
    r.samples_in_ram = stats().samples_in_ram;
    r.samples_dropped = samples_dropped_;
    return r;
  }

  // Durable: forget what was written.
  r.raw_blocks_written = raws.size();
  r.rollup_blocks_written = rollups.size();
  if (write_open_raw) {
    open_io_bytes_ += io_delta;
    raw_.written_samples = raw_.samples.size();
  }
  sealed_raw_.clear();
  sealed_rollup_.clear();
  unsaved_names_from_ = store_names_.size();
  first_commit_done_ = true;
  io_mark_ = io_now;
  r.changed = last_failed_;  // recovered
  last_failed_ = false;
  last_condition_ = CommitCondition::kOk;
  ++commits_ok_;
  r.samples_in_ram = stats().samples_in_ram;
  r.samples_dropped = samples_dropped_;
  return r;
}

void SampleWriter::uncommitted(std::vector<std::string>& names, std::vector<Sample>& samples) const {
  names = store_names_;
  samples.clear();
  for (const SealedBlock& block : sealed_raw_) {
    std::vector<Sample> decoded = decode_block(block.data);
    samples.insert(samples.end(), std::make_move_iterator(decoded.begin()), std::make_move_iterator(decoded.end()));
  }
  samples.insert(samples.end(), raw_.samples.begin() + static_cast<std::ptrdiff_t>(raw_.written_samples),
                 raw_.samples.end());
}

WriterStats SampleWriter::stats() const {
  WriterStats s;
  s.samples_in_ram = raw_.samples.size() - raw_.written_samples + samples_in(sealed_raw_);
  s.pending_blocks = sealed_raw_.size() + sealed_rollup_.size();
  for (const auto& b : sealed_raw_) s.pending_bytes += b.data.size();
  for (const auto& b : sealed_rollup_) s.pending_bytes += b.data.size();
  s.samples_dropped = samples_dropped_;
  s.commits_ok = commits_ok_;
  s.commits_failed = commits_failed_;
  s.run = run_;
  return s;
}

}  // namespace ctmon::store

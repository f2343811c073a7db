#pragma once
// The daemon's write path for samples. append() is RAM only and cheap; commit() writes the
// blocks that are complete in one transaction, every commit_interval_s; flush() also writes the
// block in progress (shutdown, or when an episode opens or closes). Layout: schema/README.md.
//
// Blocks: consecutive samples are gathered into a block until it spans commit_interval_s of
// monotonic time; the block is then sealed (encoded, block_codec.h) and due for commit. Block
// number `seq` increases forever; the block lives in slot seq mod raw_slots() of raw_blocks, so
// the ring keeps the newest retention_raw_s of sampled time and the file stops growing. In
// parallel the stream is thinned (rollup.h) into hour-long rollup blocks in their own ring.
//
// Failures keep data: when a commit fails (disk full, database locked by another process, I/O
// error) every block stays in RAM, the failure is reported in the CommitResult (`changed` is true
// only when the condition differs from the previous commit's, so the daemon logs once per
// condition), and commit_due() asks again after retry_interval_s. RAM is bounded by
// max_pending_bytes of encoded blocks: past it the oldest raw blocks are dropped first (their
// minute rollups stay, so the period keeps minute resolution), rollup blocks last.

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/sample.h"
#include "monitor/store/block_codec.h"
#include "monitor/store/database.h"
#include "monitor/store/rollup.h"

namespace ctmon::store {

/// Whether raw blocks carry the bytes totals besides the packets (always stored).
enum class BytesPolicy {
  kNever,
  /// Bytes when the block with them still fits one 4 KiB page (kPageFitBytes); otherwise that
  /// block is stored without. Measured (schema/README.md): at 5 s a 300 s block with bytes fits
  /// (+7% bytes written), at 1 s it does not and bytes would double the bytes written per day.
  kWhenBlockFitsPage,
  kAlways,
};

/// Largest block that stays on its own 4 KiB table leaf page with its row (SQLite keeps up to
/// 4061 payload bytes on the page; the other columns and headers take the rest).
inline constexpr std::size_t kPageFitBytes = 4000;

struct SampleWriterOptions {
  std::int64_t commit_interval_s = 300;       ///< span of one raw block; commit period
  std::int64_t retention_raw_s = 48 * 3600;   ///< raw ring: slots = ceil(this / commit_interval_s)
  std::int64_t retention_rollup_s = 30 * 86400;
  std::int64_t rollup_step_s = 60;            ///< rollup resolution (minute rollups)
  std::int64_t rollup_block_s = 3600;         ///< span of one rollup block (written hourly)
  std::size_t max_samples_per_block = 3600;   ///< seal earlier when sampling faster than 12 Hz
  std::size_t max_pending_bytes = 4u << 20;   ///< encoded blocks kept in RAM while commits fail
  std::int64_t retry_interval_s = 30;         ///< after a failed commit, retry this much later
  std::int64_t time_unit_ns = 1000;           ///< stored timestamps are floor(ns / this)
  BytesPolicy bytes = BytesPolicy::kWhenBlockFitsPage;
};

/// Why a commit did not happen. kOk also when there was nothing to write.
enum class CommitCondition { kOk, kBusy, kDiskFull, kIoError, kOtherError };

/// Short name of a condition for logs: "ok", "database locked", "disk full", ...
[[nodiscard]] const char* to_string(CommitCondition c);

struct CommitResult {
  CommitCondition condition = CommitCondition::kOk;
  bool changed = false;             ///< condition differs from the previous commit's: log it
  std::string message;              ///< SQLite's reason when condition != kOk
  std::size_t raw_blocks_written = 0;
  std::size_t rollup_blocks_written = 0;
  std::size_t samples_in_ram = 0;   ///< samples not yet durable after this call
  std::size_t samples_dropped = 0;  ///< total dropped so far by the RAM bound (never decreases)
};

struct WriterStats {
  std::size_t samples_in_ram = 0;     ///< appended but not durable (open block + pending blocks)
  std::size_t pending_blocks = 0;     ///< sealed blocks (raw + rollup) waiting for a commit
  std::size_t pending_bytes = 0;      ///< their encoded size
  std::size_t samples_dropped = 0;
  std::uint64_t commits_ok = 0, commits_failed = 0;
  std::int64_t run = 0;               ///< this writer's run number (raw_blocks.run)
};

class SampleWriter {
 public:
  /// Prepares to write into `db` (read-write; must outlive the writer). Reads the counter ids,
  /// the last block numbers and run number; writes nothing until the first commit.
  /// Throws std::invalid_argument for nonsensical options and SqliteError when reading fails.
  explicit SampleWriter(Database& db, SampleWriterOptions options = {});

  SampleWriter(const SampleWriter&) = delete;
  SampleWriter& operator=(const SampleWriter&) = delete;

  /// Buffers `sample` in RAM. `catalog` names its counters; pass the same (append-only) catalog
  /// every time. Counters absent from the sample are stored as absent. Never touches the disk;
  /// may seal a block (encoding it, ~0.1 ms) and then commit_due() turns true.
  void append(const Sample& sample, const CounterCatalog& catalog);

  /// True when commit() has something to write: a sealed block, or a block in progress whose
  /// first sample is commit_interval_s old (sampling stalled). After a failed commit, false
  /// until retry_interval_s has passed. `now_mono_ns` is the monotonic clock.
  [[nodiscard]] bool commit_due(std::int64_t now_mono_ns) const;

  /// Writes every sealed raw and rollup block (and a stalled block in progress) in one
  /// transaction. Never throws for SQLite failures: they come back in the result, with the data
  /// kept in RAM (see the file comment). Cheap when there is nothing to write.
  CommitResult commit(std::int64_t now_mono_ns);

  /// Like commit(), but also writes the blocks in progress (raw and rollup) as they are now;
  /// they are rewritten in place when they fill up. For shutdown (takes milliseconds, plus at
  /// most the busy timeout) and for making an episode's samples durable at once.
  CommitResult flush(std::int64_t now_mono_ns);

  [[nodiscard]] WriterStats stats() const;
  /// stats().commits_ok without summing the pending blocks: cheap enough for every sample.
  [[nodiscard]] std::uint64_t commits_ok() const { return commits_ok_; }

  /// The raw samples appended but not yet committed, oldest first (blocks waiting for a commit
  /// are decoded), their counters indexed by `names` (the store's counter names). What a reader
  /// of the database cannot see yet: the daemon hands it over on its status socket. May repeat
  /// samples that an episode's flush already made durable; readers keep those newer than what
  /// they read from the database.
  void uncommitted(std::vector<std::string>& names, std::vector<Sample>& samples) const;
  /// Number of slots of the raw ring (ceil(retention_raw_s / commit_interval_s)).
  [[nodiscard]] std::int64_t raw_slots() const { return raw_slots_; }
  [[nodiscard]] std::int64_t rollup_slots() const { return rollup_slots_; }

 private:
  struct OpenBlock {
    std::int64_t seq = 0;
    std::vector<Sample> samples;          // counters indexed by store id
    std::size_t written_samples = 0;      // how many of them are durable (flush)
    std::int64_t first_raw_seq = 0, last_raw_seq = 0;  // rollups: source raw blocks
  };
  struct SealedBlock {
    std::int64_t seq = 0, n = 0, min_wall_ns = 0, max_wall_ns = 0;
    std::int64_t first_raw_seq = 0, last_raw_seq = 0;
    std::uint64_t io_bytes = 0;           // raw: bytes written during the block's life
    std::vector<std::uint8_t> data;
  };

  SealedBlock seal(const OpenBlock& b) const;
  void seal_raw();
  void seal_rollup();
  void enforce_ram_bound();
  CommitResult write(std::int64_t now_mono_ns, bool include_open);
  std::uint32_t store_id(const std::string& name);

  Database& db_;
  SampleWriterOptions opt_;
  std::int64_t commit_interval_ns_, rollup_block_ns_, retry_interval_ns_;
  std::int64_t raw_slots_, rollup_slots_;
  std::int64_t run_ = 1;

  std::vector<std::string> store_names_;                  // store id -> name
  std::unordered_map<std::string, std::uint32_t> store_ids_;
  std::size_t unsaved_names_from_ = 0;                    // names from here on are not in the DB yet
  std::vector<std::uint32_t> catalog_to_store_;           // catalog id -> store id
  std::vector<std::uint8_t> keep_bytes_;                  // store id -> 1 for a mean counter

  OpenBlock raw_, rollup_;
  std::deque<SealedBlock> sealed_raw_, sealed_rollup_;
  RollupThinner thinner_;
  std::vector<Sample> thinned_;                           // scratch for the thinner's output

  bool first_commit_done_ = false;
  std::int64_t next_retry_mono_ns_ = 0;
  bool last_failed_ = false;
  CommitCondition last_condition_ = CommitCondition::kOk;
  std::uint64_t io_mark_ = 0;                             // counting VFS total at last commit
  std::uint64_t open_io_bytes_ = 0;                       // io attributed to the open raw block
  std::size_t samples_dropped_ = 0;
  std::uint64_t commits_ok_ = 0, commits_failed_ = 0;
};

}  // namespace ctmon::store

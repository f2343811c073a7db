#pragma once
// A counting SQLite VFS shim: wraps the default VFS and counts the bytes SQLite hands to xWrite,
// per kind of file (main database, WAL, rollback journal). It is how ctmon knows how much it
// writes to flash (`ctmon status`, the bytes-written benchmark) without trusting estimates.
// The -shm file is written through mmap, not xWrite, so it is not in these counts; the
// benchmark measures it with /proc/self/io.

#include <cstdint>

namespace ctmon::store {

/// Process-wide totals since the process started (or since reset_io_counters()).
struct IoCounters {
  std::uint64_t main_db_bytes = 0;   ///< xWrite bytes to main database files
  std::uint64_t wal_bytes = 0;       ///< xWrite bytes to -wal files
  std::uint64_t journal_bytes = 0;   ///< xWrite bytes to rollback journals and temp files
  std::uint64_t writes = 0;          ///< xWrite calls, all files
  std::uint64_t syncs = 0;           ///< xSync calls, all files
  std::uint64_t shm_maps = 0;        ///< xShmMap calls (the -shm file is in use when > 0)

  [[nodiscard]] std::uint64_t total_bytes() const { return main_db_bytes + wal_bytes + journal_bytes; }
};

/// Name of the counting VFS, registering it (not as the default) on the first call. Thread-safe.
/// Pass it to sqlite3_open_v2; Database does so unless told otherwise.
[[nodiscard]] const char* counting_vfs_name();

/// Snapshot of the counters. Cheap (relaxed atomic loads).
[[nodiscard]] IoCounters io_counters();

/// Sets the counters back to zero (benchmarks).
void reset_io_counters();

}  // namespace ctmon::store

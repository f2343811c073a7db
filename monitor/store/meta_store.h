#pragma once
// Small facts in the `meta` key/value table (host, sampling interval, ...; the writer keeps
// 'last_run' and 'first_sample_wall_ns' there itself) and the store's statistics for
// `ctmon status`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "monitor/store/database.h"

namespace ctmon::store {

class MetaStore {
 public:
  /// `db` must outlive the store.
  explicit MetaStore(Database& db) : db_(db) {}

  /// Sets `key`, durably, in its own transaction. Throws SqliteError.
  void set(std::string_view key, std::string_view value);
  void set(std::string_view key, std::int64_t value);
  /// The value of `key` as text / as an integer; nullopt when absent (or not an integer).
  [[nodiscard]] std::optional<std::string> get_text(std::string_view key) const;
  [[nodiscard]] std::optional<std::int64_t> get_int(std::string_view key) const;

 private:
  Database& db_;
};

struct StoreStats {
  std::uint64_t db_file_bytes = 0, wal_file_bytes = 0, shm_file_bytes = 0;
  std::int64_t page_size = 0, page_count = 0, freelist_pages = 0;
  std::int64_t raw_blocks = 0, rollup_blocks = 0, events = 0, outbox_rows = 0;
  /// Bytes the daemon wrote to the database files (counting VFS) since `since_wall_ns`, as
  /// recorded with each raw block it committed after that time; nullopt when no block did.
  std::optional<std::int64_t> bytes_written_since;
};

/// Gathers the statistics; `since_wall_ns` is e.g. local midnight for "bytes written today".
/// Throws SqliteError.
[[nodiscard]] StoreStats store_stats(const Database& db, std::int64_t since_wall_ns);

}  // namespace ctmon::store

#include "monitor/store/meta_store.h"

#include <filesystem>

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

namespace {

template <typename Value>
void put(sqlite3* h, std::string_view key, const Value& value) {
  Transaction tx(h);
  Statement st(h, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  st.bind(1, key).bind(2, value).run();
  tx.commit();
}

}  // namespace

void MetaStore::set(std::string_view key, std::string_view value) { put(db_.handle(), key, value); }

void MetaStore::set(std::string_view key, std::int64_t value) { put(db_.handle(), key, value); }

std::optional<std::string> MetaStore::get_text(std::string_view key) const {
  Statement st(db_.handle(), "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  if (!st.step() || st.is_null(0)) return std::nullopt;
  return st.text(0);
}

std::optional<std::int64_t> MetaStore::get_int(std::string_view key) const {
  Statement st(db_.handle(), "SELECT value FROM meta WHERE key = ? AND typeof(value) = 'integer'");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

StoreStats store_stats(const Database& db, std::int64_t since_wall_ns) {
  StoreStats s;
  std::error_code ec;
  const std::string p = db.path().string();
  auto size = [&](const std::string& f) -> std::uint64_t {
    const auto n = std::filesystem::file_size(f, ec);
    return ec ? 0 : n;
  };
  s.db_file_bytes = size(p);
  s.wal_file_bytes = size(p + "-wal");
  s.shm_file_bytes = size(p + "-shm");
  sqlite3* h = db.handle();
  auto one = [&](const char* sql) {
    Statement st(h, sql);
    return st.step() ? st.int64(0) : 0;
  };
  s.page_size = one("PRAGMA page_size");
  s.page_count = one("PRAGMA page_count");
  s.freelist_pages = one("PRAGMA freelist_count");
  s.raw_blocks = one("SELECT count(*) FROM raw_blocks");
  s.rollup_blocks = one("SELECT count(*) FROM rollup_blocks");
  s.events = one("SELECT count(*) FROM events");
  s.outbox_rows = one("SELECT count(*) FROM outbox");
  Statement w(h, "SELECT sum(io_bytes) FROM raw_blocks WHERE max_wall_ns >= ?");
  w.bind(1, since_wall_ns);
  if (w.step() && !w.is_null(0)) s.bytes_written_since = w.int64(0);
  return s;
}

}  // namespace ctmon::store

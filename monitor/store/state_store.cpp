#include "monitor/store/state_store.h"

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

void StateStore::save(const DetectorState& s) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement st(h, "INSERT OR REPLACE INTO detector_state (id, format_version, saved_wall_ns, data) VALUES (1, ?, ?, ?)");
  st.bind(1, s.format_version).bind(2, s.saved_wall_ns).bind_blob(3, s.data);
  st.run();
  tx.commit();
}

std::optional<DetectorState> StateStore::load(std::int64_t expected_format_version) const {
  Statement st(db_.handle(), "SELECT format_version, saved_wall_ns, data FROM detector_state WHERE id = 1");
  if (!st.step() || st.int64(0) != expected_format_version) return std::nullopt;
  DetectorState s;
  s.format_version = st.int64(0);
  s.saved_wall_ns = st.int64(1);
  const auto b = st.blob(2);
  s.data.assign(b.begin(), b.end());
  return s;
}

std::optional<std::int64_t> StateStore::saved_version() const {
  Statement st(db_.handle(), "SELECT format_version FROM detector_state WHERE id = 1");
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

void StateStore::clear() {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  exec(h, "DELETE FROM detector_state");
  tx.commit();
}

}  // namespace ctmon::store

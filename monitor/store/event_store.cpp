#include "monitor/store/event_store.h"

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {
namespace {

constexpr const char* kColumns =
    "id, start_wall_ns, end_wall_ns, peak_score, kind, summary, evidence_json, detectors, updated_wall_ns, location";

EventRecord row(const Statement& st) {
  EventRecord e;
  e.id = st.int64(0);
  e.start_wall_ns = st.int64(1);
  if (!st.is_null(2)) e.end_wall_ns = st.int64(2);
  e.peak_score = st.real(3);
  e.kind = st.text(4);
  e.summary = st.text(5);
  e.evidence_json = st.text(6);
  e.detectors = st.text(7);
  e.updated_wall_ns = st.int64(8);
  e.where = st.text(9);
  return e;
}

}  // namespace

void EventStore::upsert(const EventRecord& e) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement st(h, std::string("INSERT OR REPLACE INTO events (") + kColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, e.id).bind(2, e.start_wall_ns).bind(3, e.end_wall_ns).bind(4, e.peak_score)
      .bind(5, std::string_view(e.kind)).bind(6, std::string_view(e.summary))
      .bind(7, std::string_view(e.evidence_json)).bind(8, std::string_view(e.detectors))
      .bind(9, e.updated_wall_ns).bind(10, std::string_view(e.where));
  st.run();
  tx.commit();
}

std::optional<EventRecord> EventStore::get(std::int64_t id) const {
  Statement st(db_.handle(), std::string("SELECT ") + kColumns + " FROM events WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return row(st);
}

std::vector<EventRecord> EventStore::list(const EventFilter& f) const {
  // Unset filters bind NULL and drop out of the WHERE clause, so one statement serves all.
  Statement st(db_.handle(),
               std::string("SELECT ") + kColumns +
                   " FROM events WHERE (?1 IS NULL OR end_wall_ns IS NULL OR end_wall_ns >= ?1)"
                   " AND (?2 IS NULL OR start_wall_ns < ?2) AND (?3 IS NULL OR kind = ?3)"
                   " AND (?4 IS NULL OR peak_score >= ?4) AND (?5 = 0 OR end_wall_ns IS NULL)"
                   " ORDER BY start_wall_ns DESC, id DESC LIMIT ?6");
  st.bind(1, f.since_wall_ns).bind(2, f.until_wall_ns);
  if (f.kind) st.bind(3, std::string_view(*f.kind)); else st.bind_null(3);
  if (f.min_score) st.bind(4, *f.min_score); else st.bind_null(4);
  st.bind(5, std::int64_t{f.open_only ? 1 : 0});
  st.bind(6, f.limit ? static_cast<std::int64_t>(*f.limit) : std::int64_t{-1});
  std::vector<EventRecord> out;
  while (st.step()) out.push_back(row(st));
  return out;
}

std::int64_t EventStore::next_event_id() const {
  Statement st(db_.handle(), "SELECT coalesce(max(id), 0) + 1 FROM events");
  st.step();
  return st.int64(0);
}

}  // namespace ctmon::store

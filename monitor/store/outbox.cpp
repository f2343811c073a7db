#include "monitor/store/outbox.h"

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

std::size_t Outbox::enqueue(std::span<const OutboxLine> lines, std::int64_t now_wall_ns) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement put(h, "INSERT INTO outbox (priority, created_wall_ns, next_attempt_wall_ns, line) VALUES (?, ?, 0, ?)");
  for (const OutboxLine& l : lines) {
    put.reset();
    put.bind(1, static_cast<std::int64_t>(l.cls)).bind(2, now_wall_ns).bind(3, std::string_view(l.line)).run();
  }
  Statement count(h, "SELECT count(*) FROM outbox");
  count.step();
  std::int64_t excess = count.int64(0) - static_cast<std::int64_t>(opt_.max_rows);
  std::size_t evicted = 0;
  // Series before markers, oldest first within each class.
  for (const OutboxClass cls : {OutboxClass::kSeries, OutboxClass::kMarker}) {
    if (excess <= 0) break;
    Statement del(h, "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE priority = ? ORDER BY id LIMIT ?)");
    del.bind(1, static_cast<std::int64_t>(cls)).bind(2, excess).run();
    const auto n = sqlite3_changes(h);
    excess -= n;
    evicted += static_cast<std::size_t>(n);
  }
  tx.commit();
  return evicted;
}

std::vector<OutboxEntry> Outbox::peek(std::size_t max, std::int64_t now_wall_ns) const {
  Statement st(db_.handle(),
               "SELECT id, priority, created_wall_ns, attempts, next_attempt_wall_ns, line FROM outbox "
               "WHERE next_attempt_wall_ns <= ? ORDER BY priority DESC, id LIMIT ?");
  st.bind(1, now_wall_ns).bind(2, static_cast<std::int64_t>(max));
  std::vector<OutboxEntry> out;
  while (st.step())
    out.push_back({st.int64(0), static_cast<OutboxClass>(st.int64(1)), st.int64(2), st.int64(3), st.int64(4), st.text(5)});
  return out;
}

void Outbox::remove(std::span<const std::int64_t> ids) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement del(h, "DELETE FROM outbox WHERE id = ?");
  for (const std::int64_t id : ids) {
    del.reset();
    del.bind(1, id).run();
  }
  tx.commit();
}

void Outbox::defer(std::span<const std::int64_t> ids, std::int64_t next_attempt_wall_ns) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement up(h, "UPDATE outbox SET attempts = attempts + 1, next_attempt_wall_ns = ? WHERE id = ?");
  for (const std::int64_t id : ids) {
    up.reset();
    up.bind(1, next_attempt_wall_ns).bind(2, id).run();
  }
  tx.commit();
}

std::size_t Outbox::size() const {
  Statement st(db_.handle(), "SELECT count(*) FROM outbox");
  st.step();
  return static_cast<std::size_t>(st.int64(0));
}

std::size_t Outbox::size(OutboxClass cls) const {
  Statement st(db_.handle(), "SELECT count(*) FROM outbox WHERE priority = ?");
  st.bind(1, static_cast<std::int64_t>(cls));
  st.step();
  return static_cast<std::size_t>(st.int64(0));
}

}  // namespace ctmon::store

#include "monitor/store/notify_outbox.h"

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

bool NotifyOutbox::enqueue(const Notification& n, std::size_t* evicted) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement put(h,
                "INSERT OR IGNORE INTO notify_outbox (notification_id, created_wall_ns, state, event, held_back_ids, "
                "held_back_note) VALUES (?, ?, ?, ?, ?, ?)");
  put.bind(1, std::string_view(n.notification_id))
      .bind(2, n.created_wall_ns)
      .bind(3, std::string_view(n.state))
      .bind(4, std::string_view(n.event))
      .bind(5, std::string_view(n.held_back_ids))
      .bind(6, std::string_view(n.held_back_note))
      .run();
  const bool added = sqlite3_changes(h) > 0;
  Statement trim(h,
                 "DELETE FROM notify_outbox WHERE id IN (SELECT id FROM notify_outbox WHERE delivered_wall_ns IS NULL "
                 "ORDER BY id DESC LIMIT -1 OFFSET ?)");
  trim.bind(1, static_cast<std::int64_t>(kMaxRows)).run();
  if (evicted != nullptr) *evicted = static_cast<std::size_t>(sqlite3_changes(h));
  tx.commit();
  return added;
}

std::optional<Notification> NotifyOutbox::oldest() const {
  Statement st(db_.handle(),
               "SELECT id, notification_id, created_wall_ns, state, event, held_back_ids, held_back_note "
               "FROM notify_outbox WHERE delivered_wall_ns IS NULL ORDER BY id LIMIT 1");
  if (!st.step()) return std::nullopt;
  return Notification{st.int64(0), st.text(1), st.int64(2), st.text(3), st.text(4), st.text(5), st.text(6)};
}

void NotifyOutbox::mark_delivered(std::int64_t row, std::int64_t now_wall_ns) {
  sqlite3* h = db_.handle();
  Transaction tx(h);
  Statement mark(h, "UPDATE notify_outbox SET delivered_wall_ns = ? WHERE id = ?");
  mark.bind(1, now_wall_ns).bind(2, row).run();
  Statement trim(h,
                 "DELETE FROM notify_outbox WHERE id IN (SELECT id FROM notify_outbox WHERE delivered_wall_ns IS NOT "
                 "NULL ORDER BY id DESC LIMIT -1 OFFSET ?)");
  trim.bind(1, static_cast<std::int64_t>(kKeepDelivered)).run();
  tx.commit();
}

void NotifyOutbox::remove(std::int64_t row) {
  Statement del(db_.handle(), "DELETE FROM notify_outbox WHERE id = ?");
  del.bind(1, row).run();
}

std::size_t NotifyOutbox::size() const {
  Statement st(db_.handle(), "SELECT count(*) FROM notify_outbox WHERE delivered_wall_ns IS NULL");
  st.step();
  return static_cast<std::size_t>(st.int64(0));
}

}  // namespace ctmon::store

#pragma once
// The durable outbox of the webhook (monitor/notify/webhook.h): a notification is committed here
// before its first try and marked delivered once its receiver answered 2xx, so a restart (or a
// kill -9) loses none, and one that was delivered is never sent again: its row stays (the newest
// kKeepDelivered of them), and enqueueing its notification_id again is a no-op. Notifications
// are rare (one per episode, at most two), so every call is its own small transaction. Bounded
// (kMaxRows waiting, oldest dropped first): a receiver gone for months must not fill the flash.

#include <cstdint>
#include <optional>
#include <string>

#include "monitor/store/database.h"

namespace ctmon::store {

struct Notification {
  std::int64_t row = 0;               ///< increasing in enqueue order; 0 before enqueue
  std::string notification_id;        ///< stable over every try: X-Ctmon-Notification-Id
  std::int64_t created_wall_ns = 0;
  std::string state;                  ///< "open" or "close"
  std::string event;                  ///< the events JSON line
  std::string held_back_ids;          ///< "12,13,14": episodes held back by the rate limit
  std::string held_back_note;         ///< "and 3 more episodes since 14:02: ..."

  friend bool operator==(const Notification&, const Notification&) = default;
};

class NotifyOutbox {
 public:
  static constexpr std::size_t kMaxRows = 1000;
  /// Delivered rows kept to refuse a repeat: far more than the notifications of one restart.
  static constexpr std::size_t kKeepDelivered = 100;

  /// `db` must outlive the outbox.
  explicit NotifyOutbox(Database& db) : db_(db) {}

  /// Appends `n` (row ignored), durable on return. A notification_id already queued or
  /// delivered is left as it is (false returned). Evicts the oldest waiting rows past kMaxRows
  /// and returns how many through `evicted`. Throws SqliteError (nothing written then).
  bool enqueue(const Notification& n, std::size_t* evicted = nullptr);

  /// The oldest notification waiting for delivery, if any.
  [[nodiscard]] std::optional<Notification> oldest() const;

  /// The receiver took the row's notification: it is not handed out again, nor queued again.
  /// Delivered rows past kKeepDelivered are deleted, oldest first.
  void mark_delivered(std::int64_t row, std::int64_t now_wall_ns);

  /// Deletes the row (refused for good).
  void remove(std::int64_t row);

  /// Notifications waiting for delivery.
  [[nodiscard]] std::size_t size() const;

 private:
  Database& db_;
};

}  // namespace ctmon::store

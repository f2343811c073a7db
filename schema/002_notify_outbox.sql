-- Notifications of the webhook (notify.url): written before the first try, marked delivered at
-- the receiver's 2xx (delivered_wall_ns, NULL while waiting), so a restart or an outage loses
-- none. A delivered row is kept (the newest 100) so that the same notification_id can never be
-- queued, and so sent, again. notification_id is the X-Ctmon-Notification-Id header ("<episode
-- id>-<start in ms>-open"): the same for every try, so a receiver can drop a repeat. event is the episode's
-- events JSON line at the time; held_back_ids and held_back_note name the episodes the rate
-- limit (notify.min_gap) held back, summed up in this one. Failed tries are not counted here:
-- the backoff lives in RAM, so a receiver that is down costs no flash writes.
CREATE TABLE notify_outbox (
  id              INTEGER PRIMARY KEY,
  notification_id TEXT NOT NULL UNIQUE,
  created_wall_ns INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('open', 'close')),
  event           TEXT NOT NULL,
  held_back_ids   TEXT NOT NULL DEFAULT '',
  held_back_note  TEXT NOT NULL DEFAULT '',
  delivered_wall_ns INTEGER  -- NULL while waiting
);

#pragma once
// `[notify] url`: the webhook, an output of the daemon (io/output.h) that POSTs a notification
// when an episode opens (and when it closes, with notify.on_close) to a URL the owner chose: a
// home-automation hook, a chat relay, an ntfy topic. Off (never constructed) while notify.url is
// empty. Which episodes, and how often: notify_policy.h. What each POST holds: webhook_format.h.
//
// Delivery, and why:
//   - Durable first: a notification is committed to the database's notify_outbox
//     (store/notify_outbox.h) when the policy decides it, before its first try, and marked
//     delivered only after a 2xx (a delivered id is never queued again). A restart, a SIGTERM
//     or a kill -9 loses none that was committed; a failed commit (disk full) keeps it in RAM
//     and retries the write every 5 s.
//   - Oldest first, one request at a time, through curl's multi interface in the daemon's poll
//     loop (http_post.h): a dead receiver costs a timer, never a stalled sample.
//   - No answer, 5xx or 429: kept, retried with the InfluxDB sender's backoff (retry_policy.h:
//     1 s doubling to 5 min, with jitter; Retry-After honoured), in RAM only, so an outage
//     writes nothing to flash; a restart tries at once.
//   - Another 4xx (400, 401, 403, 404, 413, ...): the receiver refuses this request for good, so
//     it is dropped (deleted, counted as failed, logged once per status code until a delivery
//     succeeds). Keeping it would block every later notification behind it, and the episode
//     stays in `ctmon events` anyway.
//   - Exactly once, nearly: a notification is marked delivered right after its 2xx. When the daemon dies
//     between the two (milliseconds), or a SIGTERM lands while a POST is in flight, it is sent
//     again after the restart with the same X-Ctmon-Notification-Id: a receiver that remembers
//     the ids it saw drops the repeat.
//   - Secrets: the URL may hold a token (user info, or the query string as in ntfy's ?auth=):
//     log lines name it without either (influx::loggable_url), and `ctmon status` shows it
//     with both replaced by *** (redact_url_and_query).

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/influx/retry_policy.h"
#include "monitor/io/condition_log.h"
#include "monitor/io/log_sink.h"
#include "monitor/io/output.h"
#include "monitor/notify/http_post.h"
#include "monitor/notify/notify_policy.h"
#include "monitor/notify/webhook_format.h"
#include "monitor/store/database.h"
#include "monitor/store/notify_outbox.h"

namespace ctmon::notify {

struct WebhookConfig {
  std::string url;
  std::string format = "auto";
  NotifyPolicyConfig policy;
  std::string host;        ///< the router's name, in ntfy titles
  double timeout_s = 10;   ///< per request
};

class Webhook : public io::Output {
 public:
  static constexpr std::int64_t kStoreRetry_ns = 5'000'000'000;

  /// Throws UserError for a URL that is not http:// or https:// with a host.
  Webhook(store::Database& db, WebhookConfig config, io::LogSink log);
  ~Webhook() override;
  Webhook(const Webhook&) = delete;
  Webhook& operator=(const Webhook&) = delete;

  [[nodiscard]] std::string_view name() const override { return "notify.url"; }
  void start(const Analyzer& analyzer) override;
  void on_sample(const io::SampleView& view) override { (void)view; }
  void on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) override;
  void on_episode_closed_at_restart(const Episode& episode) override;
  std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) override;
  void pump(std::int64_t now_mono_ns) override;
  bool finish(const Analyzer& analyzer, std::int64_t now_mono_ns) override;
  void report(status::DaemonStatus& status) const override;

  /// Queues the notification `decision` asks for (durable unless the database fails). For
  /// on_episode() and tests.
  void enqueue(const NotifyDecision& decision, std::int64_t now_wall_ns);

 private:
  void write_unwritten(std::int64_t now_mono_ns);
  void start_next(std::int64_t now_mono_ns);
  void answered(const HttpAnswer& answer, std::int64_t now_mono_ns);
  void retry_later(influx::Outcome outcome, const std::string& detail, std::optional<std::int64_t> retry_after_ms,
                   std::int64_t now_mono_ns);
  void drop(std::int64_t row, const std::string& detail);

  store::NotifyOutbox outbox_;
  WebhookConfig config_;
  io::LogSink log_;
  WebhookFormat format_;
  std::string log_url_;  // without user info and query string
  NotifyPolicy policy_;
  HttpPost http_;
  std::deque<store::Notification> unwritten_;  // the database refused them; retried
  std::int64_t next_store_try_mono_ns_ = 0;
  std::optional<store::Notification> sending_;  // the row in flight
  std::size_t queued_ = 0;                      // rows in the outbox, counted without a query
  std::uint32_t failures_ = 0;
  std::int64_t next_try_mono_ns_ = 0;
  ConditionLog<long> refused_;                  // 4xx, by status code
  ConditionLog<influx::Outcome> retrying_;
  ConditionLog<> store_trouble_;
  std::mt19937 random_;
  status::NotifierStatus status_;
};

/// The webhook `config` asks for, or nullptr when notify.url is empty. Throws UserError like
/// Webhook's constructor.
[[nodiscard]] std::unique_ptr<Webhook> make_webhook_output(const Config& config, store::Database& db,
                                                           io::LogSink log);

}  // namespace ctmon::notify

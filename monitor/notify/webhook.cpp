#include "monitor/notify/webhook.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/events/events_json.h"
#include "monitor/influx/sender.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::notify {
namespace {

using influx::one_line;
using influx::Outcome;
using io::Severity;

std::string local_hhmm(std::int64_t wall_ns) {
  const time_t t = static_cast<time_t>(wall_ns / kNsPerS);
  struct tm tm {};
  char text[16] = "??:??";
  if (localtime_r(&t, &tm) != nullptr) (void)strftime(text, sizeof text, "%H:%M", &tm);
  return text;
}

}  // namespace

Webhook::Webhook(store::Database& db, WebhookConfig config, io::LogSink log)
    : outbox_(db), config_(std::move(config)), log_(std::move(log)),
      format_(choose_format(config_.format, config_.url)), log_url_(influx::loggable_url(config_.url)),
      policy_(config_.policy), random_(std::random_device{}()) {
  if (const std::string problem = notify_url_problem(config_.url); !problem.empty())
    throw UserError(fmt::format("notify.url '{}': {}", log_url_, problem));
  status_.name = "webhook";
  status_.target = redact_url_and_query(config_.url);
  try {
    queued_ = outbox_.size();
  } catch (const store::SqliteError& e) {
    throw UserError(fmt::format("notify.url: cannot read the notifications waiting in the database ({})", e.what()));
  }
  if (log_)
    log_(Severity::kInfo, fmt::format("notify: posting episodes to {} ({}); {} notification(s) waiting from before",
                                      log_url_, to_string(format_), queued_));
}

Webhook::~Webhook() = default;

void Webhook::start(const Analyzer& analyzer) {
  if (const Episode* open = analyzer.open_episode()) policy_.resume(*open);
}

void Webhook::on_episode(const Episode& episode, EpisodeChange change, const io::SampleView& view) {
  std::optional<NotifyDecision> decision;
  if (change == EpisodeChange::closed)
    decision = policy_.on_closed(episode);
  else
    decision = policy_.on_change(episode, view.now_mono_ns);
  if (decision) enqueue(*decision, view.now_wall_ns);
}

void Webhook::on_episode_closed_at_restart(const Episode& episode) {
  // The run before told about it when it qualifies (its open message was sent or is still in the
  // outbox), so its close is owed like that of an episode open at a clean restart.
  policy_.resume(episode);
  if (auto decision = policy_.on_closed(episode)) enqueue(*decision, now_wall_ns());
}

void Webhook::enqueue(const NotifyDecision& decision, std::int64_t now_wall_ns) {
  store::Notification n;
  n.state = std::string(to_string(decision.state));
  n.notification_id = notification_id(decision.episode.id, decision.episode.start_wall_ns, n.state);
  n.created_wall_ns = now_wall_ns;
  n.event = events::episode_json_line(decision.episode);
  n.held_back_ids = held_back_ids(decision);
  n.held_back_note = held_back_note(decision, local_hhmm);
  unwritten_.push_back(std::move(n));
  next_store_try_mono_ns_ = 0;
  write_unwritten(clock_ns(CLOCK_MONOTONIC));
}

void Webhook::write_unwritten(std::int64_t now_mono_ns) {
  if (now_mono_ns < next_store_try_mono_ns_) return;
  while (!unwritten_.empty()) {
    try {
      std::size_t evicted = 0;
      if (outbox_.enqueue(unwritten_.front(), &evicted)) ++queued_;
      queued_ -= std::min(queued_, evicted);
      if (evicted > 0 && log_)
        log_(Severity::kWarning, fmt::format("notify: {} notification(s) waiting longest were dropped: more than {} "
                                             "are waiting for {}",
                                             evicted, store::NotifyOutbox::kMaxRows, log_url_));
    } catch (const store::SqliteError& e) {
      next_store_try_mono_ns_ = now_mono_ns + kStoreRetry_ns;
      if (store_trouble_.enter() && log_)
        log_(Severity::kWarning, fmt::format("notify: cannot keep a notification in the database ({}); it waits in "
                                             "RAM and the write is retried every {} s",
                                             e.what(), kStoreRetry_ns / kNsPerS));
      return;
    }
    unwritten_.pop_front();
    if (store_trouble_.clear() && log_)
      log_(Severity::kInfo, "notify: notifications are kept in the database again");
  }
}

std::int64_t Webhook::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  std::int64_t due = policy_.due();
  if (!unwritten_.empty()) due = std::min(due, next_store_try_mono_ns_);
  if (http_.busy()) return std::min(due, http_.want(fds, now_mono_ns));
  if (queued_ > 0) due = std::min(due, next_try_mono_ns_);
  return due;
}

void Webhook::pump(std::int64_t now_mono_ns) {
  write_unwritten(now_mono_ns);
  if (now_mono_ns >= policy_.due())
    if (auto decision = policy_.flush(now_mono_ns)) enqueue(*decision, now_wall_ns());
  if (http_.busy()) {
    if (auto answer = http_.pump()) answered(*answer, now_mono_ns);
  }
  if (!http_.busy() && queued_ > 0 && now_mono_ns >= next_try_mono_ns_) start_next(now_mono_ns);
  status_.queued = queued_ + unwritten_.size();
}

void Webhook::start_next(std::int64_t now_mono_ns) {
  try {
    sending_ = outbox_.oldest();
  } catch (const store::SqliteError& e) {
    retry_later(Outcome::kUnreachable, fmt::format("cannot read the waiting notifications ({})", e.what()),
                std::nullopt, now_mono_ns);
    return;
  }
  if (!sending_) {
    queued_ = 0;
    return;
  }
  WebhookRequest request;
  try {
    request = webhook_request(*sending_, format_, config_.host);
  } catch (const nlohmann::json::exception& e) {
    drop(sending_->row, fmt::format("notification {} holds no events line ({})", sending_->notification_id, e.what()));
    return;
  }
  std::string why;
  const long timeout_ms = std::max(1L, std::lround(config_.timeout_s * 1000));
  if (!http_.start(config_.url, std::move(request.body), request.headers, timeout_ms, why)) {
    retry_later(Outcome::kUnreachable, why, std::nullopt, now_mono_ns);
    return;
  }
  if (failures_ == 0) status_.state = "sending";
}

void Webhook::answered(const HttpAnswer& answer, std::int64_t now_mono_ns) {
  const store::Notification n = std::move(*sending_);
  sending_.reset();
  const Outcome outcome = influx::classify_transfer(answer.result, answer.status);
  if (outcome == Outcome::kSent) {
    try {
      outbox_.mark_delivered(n.row, now_wall_ns());
      queued_ -= std::min<std::size_t>(queued_, 1);
    } catch (const store::SqliteError& e) {
      // Delivered but still queued: it goes again, with the same id for the receiver to drop.
      if (log_)
        log_(Severity::kWarning, fmt::format("notify: cannot mark notification {} delivered ({})", n.notification_id,
                                             e.what()));
    }
    ++status_.delivered;
    status_.last_success_wall_ns = now_wall_ns();
    status_.state = "ok";
    status_.detail.clear();
    failures_ = 0;
    next_try_mono_ns_ = now_mono_ns;
    if ((retrying_.clear() | refused_.clear()) && log_)
      log_(Severity::kInfo, fmt::format("notify: {} accepts notifications again", log_url_));
    return;
  }
  const bool permanent = answer.status >= 400 && answer.status < 500 && answer.status != 429;
  if (permanent) {
    drop(n.row, fmt::format("{} refused notification {} with HTTP {}: {}", log_url_, n.notification_id, answer.status,
                            one_line(answer.response, 200)));
    if (refused_.enter(answer.status) && log_)
      log_(Severity::kError, fmt::format("notify: {}; it is dropped (a 4xx is not retried; the episode stays in "
                                         "'ctmon events'), and later refusals with HTTP {} are not logged until a "
                                         "notification is delivered",
                                         status_.detail, answer.status));
    next_try_mono_ns_ = now_mono_ns;
    return;
  }
  const std::string detail =
      answer.result != CURLE_OK
          ? fmt::format("no answer from {}: {}", log_url_, one_line(answer.error, 300))
          : fmt::format("{} answered HTTP {}: {}", log_url_, answer.status, one_line(answer.response, 200));
  retry_later(outcome, detail, outcome == Outcome::kThrottled ? answer.retry_after_ms : std::nullopt, now_mono_ns);
}

void Webhook::retry_later(Outcome outcome, const std::string& detail, std::optional<std::int64_t> retry_after_ms,
                          std::int64_t now_mono_ns) {
  ++failures_;
  ++status_.failed;
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const std::int64_t delay_ms = retry_after_ms ? *retry_after_ms : influx::backoff_delay_ms(failures_, unit);
  next_try_mono_ns_ = now_mono_ns + delay_ms * 1'000'000;
  status_.state = std::string(influx::to_string(outcome));
  status_.detail = detail;
  status_.last_error_wall_ns = now_wall_ns();
  if (retrying_.enter(outcome) && log_)
    log_(Severity::kWarning, fmt::format("notify: {}; {} notification(s) kept, retrying with backoff (next in {:.1f} s)",
                                         detail, queued_, static_cast<double>(delay_ms) / 1000));
}

void Webhook::drop(std::int64_t row, const std::string& detail) {
  ++status_.failed;
  status_.state = "refused";
  status_.detail = detail;
  status_.last_error_wall_ns = now_wall_ns();
  try {
    outbox_.remove(row);
    queued_ -= std::min<std::size_t>(queued_, 1);
  } catch (const store::SqliteError& e) {
    if (log_) log_(Severity::kWarning, fmt::format("notify: cannot delete a refused notification ({})", e.what()));
  }
}

bool Webhook::finish(const Analyzer& analyzer, std::int64_t now_mono_ns) {
  (void)analyzer;
  write_unwritten(now_mono_ns + kStoreRetry_ns);  // one last try, whatever the retry timer says
  if (!unwritten_.empty() && log_)
    log_(Severity::kError, fmt::format("notify: {} notification(s) could not be kept in the database and are lost",
                                       unwritten_.size()));
  if (queued_ > 0 && log_)
    log_(Severity::kInfo, fmt::format("notify: {} notification(s) for {} wait in the database for the next start",
                                      queued_, log_url_));
  return true;
}

void Webhook::report(status::DaemonStatus& status) const {
  status::NotifierStatus s = status_;
  s.queued = queued_ + unwritten_.size();
  status.notifiers.push_back(std::move(s));
}

std::unique_ptr<Webhook> make_webhook_output(const Config& config, store::Database& db, io::LogSink log) {
  if (config.notify.url.empty()) return nullptr;
  WebhookConfig hook;
  hook.url = config.notify.url;
  hook.format = config.notify.format;
  hook.policy.min_score = std::stod(config.notify.min_score);
  hook.policy.kinds = parse_kinds(config.notify.kinds);
  hook.policy.min_gap_ns = std::llround(config.notify.min_gap_s * static_cast<double>(kNsPerS));
  hook.policy.on_close = config.notify.on_close;
  hook.host = host_name(config);
  return std::make_unique<Webhook>(db, std::move(hook), std::move(log));
}

}  // namespace ctmon::notify

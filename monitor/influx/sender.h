#pragma once
// Drains the durable outbox to InfluxDB over HTTP(S), without ever blocking the sampling loop.
//
// Why curl's multi interface and not a thread: the daemon is one thread waiting in one poll
// (its signalfd and its next sampling deadline). The multi interface lets that same wait include
// curl's sockets (wait() below, curl_multi_poll with the signalfd as an extra descriptor), so
// HTTP progresses between samples, a dead server costs nothing but a timer, and there is no
// locking around the SQLite connection the outbox shares with the sample writer. A thread would
// need its own SQLite connection, a queue and a shutdown handshake for the same result.
//
// One request is in flight at a time (a router's uplink gains nothing from more). Each request
// carries up to `batch_lines` lines, markers first (Outbox::peek order), gzip-compressed, with
// precision=ms. What each answer does (retry_policy.h):
//   2xx          the lines are deleted from the outbox
//   400/422      the batch is bisected until the unparsable line is alone; that line is appended
//                to the rejected file (`rejected_path`), logged, and only then deleted
//   413          the batch limit halves (down to one line, which is then set aside as above)
//   429/503      wait Retry-After seconds when given, else back off; lines kept
//   401/403/404  status "unauthorized"/"forbidden"/"not found" with a hint, one log line per
//                condition, back off; lines kept (fixing the credentials resumes sending)
//   5xx, no answer  exponential backoff with jitter (1 s doubling to 5 min); lines kept
//   TLS failure  the same, with a hint at the certificate instead of "is InfluxDB running"
// Backoff is kept in RAM: an outage costs no flash writes (no per-row attempt updates), and a
// restart simply tries again at once.
//
// Secrets: the v2 token and the v1 password are read from files (or the v2 token from the
// environment variable CTMON_INFLUX_TOKEN), never from argv, and never logged (log lines name
// the URL without its query string). v1 credentials go as HTTP Basic auth, not in the URL.
// Two set-ups that expose them get one warning line each at start (credential_warnings()).
// The rejected-lines file is created 0640, like the database whose lines it holds.

#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/influx/log_sink.h"
#include "monitor/io/condition_log.h"
#include "monitor/influx/retry_policy.h"
#include "monitor/status/daemon_status.h"
#include "monitor/store/outbox.h"

namespace ctmon::influx {

struct SenderConfig {
  InfluxConfig influx;               ///< url, api, db/rp or org/bucket, credential files, CA, timeout
  std::size_t batch_lines = 5000;    ///< InfluxDB recommends 5,000-10,000 points per request
  bool gzip = true;
  std::string rejected_path;         ///< lines InfluxDB refused go here; empty: only logged
};

/// The write URL for `config` (v1: /write?db=&rp=&precision=ms, v2: /api/v2/write?org=&bucket=
/// &precision=ms), query values percent-encoded. Throws UserError for an empty url or db/bucket.
[[nodiscard]] std::string write_url(const InfluxConfig& config);

/// What one finished transfer means: `result` is curl's; when CURLE_OK, `http_status` decides
/// (classify_http_status). A failed TLS handshake or certificate check (CURLE_SSL_*,
/// CURLE_PEER_FAILED_VERIFICATION) is kTlsFailure, any other failure kUnreachable.
[[nodiscard]] Outcome classify_transfer(CURLcode result, long http_status);

/// `url` without user info and query string (scheme://host:port/path): safe to log.
[[nodiscard]] std::string loggable_url(const std::string& url);

/// `text` (a server's answer, curl's error) fit for one log line: line breaks and tabs become
/// spaces, and more than `max_chars` characters end in "...".
[[nodiscard]] std::string one_line(std::string text, std::size_t max_chars);

/// The poll loop's side of a curl multi handle with a transfer running: appends curl's
/// descriptors to `fds` and returns when curl wants to be pumped without one of them ready.
/// Every HTTP client of the daemon (InfluxDB, the webhook) waits on curl this way.
[[nodiscard]] std::int64_t curl_multi_want(CURLM* multi, std::vector<pollfd>& fds, std::int64_t now_mono_ns);

/// Appends `bytes` of `data` to `to` up to `max_bytes` in all: a server's answer is kept for
/// a log line, not in full.
inline void append_capped(std::string& to, const char* data, std::size_t bytes, std::size_t max_bytes) {
  if (to.size() < max_bytes) to.append(data, std::min(bytes, max_bytes - to.size()));
}

/// The options every POST of the daemon sets on its easy handle `h`: `req` (the transfer's own
/// state: body, error buffer, and the static on_body/on_header callbacks that collect the
/// answer) outlives the transfer; one timeout for connecting and for the whole request.
template <class Request>
void set_post_options(CURL* h, const std::string& url, Request& req, curl_slist* headers, long timeout_ms) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Request::on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &req);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Request::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &req);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, req.error);
}

/// One-line warnings, for the log at start, about how the credentials of `config` are kept and
/// sent; empty when nothing is wrong (or there are no credentials):
///  - the token or password file can be read by every local user (mode o+r): anyone could write
///    to InfluxDB as ctmon, or read what it may read;
///  - credentials (a v2 token, a v1 user or password, or user info in the URL) would go over
///    plain http:// to a host that is not loopback (localhost, 127.0.0.0/8, ::1), readable on
///    the way.
/// `env_token`: whether the v2 token comes from $CTMON_INFLUX_TOKEN instead of a file.
[[nodiscard]] std::vector<std::string> credential_warnings(const InfluxConfig& config, bool env_token);

class Sender {
 public:
  /// Reads the credentials (throws UserError naming the file when it cannot be read, or when
  /// v2 has no token) and logs the credential_warnings(). `outbox` must outlive the sender;
  /// `log` may be empty.
  Sender(store::Outbox& outbox, SenderConfig config, LogSink log);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  /// Makes progress without blocking: finishes completed transfers (deleting, bisecting, setting
  /// aside, backing off as above) and starts the next request when one is due. `now_mono_ns` is
  /// CLOCK_MONOTONIC. Never throws for network or server failures; SQLite failures are logged and
  /// retried on a later call.
  void pump(std::int64_t now_mono_ns);

  /// Blocks until curl's sockets need attention, `extra_fd` (>= 0; e.g. the daemon's signalfd)
  /// is readable, the next retry is due, or `timeout_ms` passed, whichever comes first. Returns
  /// true when `extra_fd` is readable. Call pump() after it.
  bool wait(int extra_fd, int timeout_ms);

  /// For a poll loop that waits for more than the sender: appends curl's descriptors to `fds`
  /// and returns the CLOCK_MONOTONIC time when pump() is due even if none is ready (a retry,
  /// curl's own timeout), or io::kNever when only notify_queued() can give it work.
  [[nodiscard]] std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const;

  /// Says that lines were added to the outbox: the next pump() looks at once.
  void notify_queued() {
    next_idle_peek_mono_ns_ = 0;
    more_queued_ = true;
  }

  /// pump()/wait() until the outbox is empty and no request is in flight, or `deadline_mono_ns`.
  /// Returns true when everything was sent (or set aside). For `ctmon replay` and tests.
  bool drain(std::int64_t deadline_mono_ns);

  /// A snapshot for `ctmon status` (queued reads the outbox's row count).
  [[nodiscard]] status::InfluxStatus status() const;

  /// True while a request is in flight.
  [[nodiscard]] bool busy() const { return request_ != nullptr; }

 private:
  struct Request;

  void start_request(std::int64_t now_mono_ns);
  void complete(CURLcode result, std::int64_t now_mono_ns);
  void fail(Outcome outcome, const std::string& detail, std::optional<std::int64_t> retry_after_ms,
            std::int64_t now_mono_ns);
  void set_aside(const store::OutboxEntry& entry, long http_status, const std::string& reason);
  [[nodiscard]] std::string hint(Outcome outcome) const;

  store::Outbox& outbox_;
  SenderConfig config_;
  LogSink log_;
  std::string url_;          // full write URL (query string never logged)
  std::string log_url_;      // scheme://host:port/path, for log lines
  std::string token_;        // v2
  std::string password_;     // v1
  std::unique_ptr<CURLM, void (*)(CURLM*)> multi_;
  std::unique_ptr<Request> request_;
  std::vector<store::OutboxEntry> batch_;  // lines being worked through
  Bisector bisect_;
  std::size_t batch_limit_;                // batch_lines, halved by 413
  std::int64_t next_try_mono_ns_ = 0;
  std::int64_t next_idle_peek_mono_ns_ = 0;
  bool more_queued_ = true;  // the outbox may hold lines not yet peeked (from before; after a batch)
  std::uint32_t failures_ = 0;
  ConditionLog<Outcome> condition_;  // the failure last logged: each is logged once
  std::mt19937 random_;
  status::InfluxStatus status_;
};

}  // namespace ctmon::influx

#include "monitor/influx/sender.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/clock.h"
#include "monitor/influx/gzip.h"
#include "monitor/io/part.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"

namespace ctmon::influx {
namespace {

constexpr std::size_t kMaxResponseBytes = 4096;     // enough for InfluxDB's error JSON
constexpr std::int64_t kIdlePeekInterval_ns = 1'000 * kNsPerMs;  // outbox empty: look again after
constexpr std::size_t kMaxLoggedLineChars = 300;


struct EasyDelete {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDelete {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void multi_delete(CURLM* m) { curl_multi_cleanup(m); }

CURLM* new_multi() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLM* m = curl_multi_init();
  if (m == nullptr) throw std::runtime_error("curl_multi_init failed");
  return m;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

std::string loggable_url(const std::string& url) {
  std::string u = url.substr(0, url.find('?'));
  const std::size_t scheme = u.find("://");
  const std::size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  const std::size_t slash = u.find('/', host);
  const std::size_t at = u.rfind('@', slash == std::string::npos ? u.size() : slash);
  if (at != std::string::npos && at >= host) u.erase(host, at + 1 - host);
  return u;
}

namespace {

std::string read_secret(const std::string& path, const char* what, const char* flag) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw UserError(fmt::format("cannot read the InfluxDB {} file '{}' ({}): check {} and the file's permissions",
                                what, path, std::strerror(errno), flag));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  if (s.empty()) throw UserError(fmt::format("the InfluxDB {} file '{}' is empty ({})", what, path, flag));
  return s;
}

// The host of `url` as curl will connect to it, lower case, without IPv6 brackets; empty when
// curl cannot parse the URL (the request then fails with its own error).
std::string url_host(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  char* host = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK)
    return "";
  std::string h(host);
  curl_free(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  return h;
}

bool url_has_user_info(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  char* part = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return false;
  bool found = false;
  for (const CURLUPart p : {CURLUPART_USER, CURLUPART_PASSWORD}) {
    if (curl_url_get(u.get(), p, &part, 0) == CURLUE_OK) found = true;
    curl_free(part);
    part = nullptr;
  }
  return found;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool starts_with_no_case(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// Appends `text` to the rejected-lines file, creating it 0640 (never through a symlink).
bool append_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 0027) != 0) (void)::fchmod(fd, st.st_mode & 07750);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0 && done == text.size();
}

}  // namespace

std::string one_line(std::string text, std::size_t max_chars) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > max_chars) text.replace(max_chars, std::string::npos, "...");
  return text;
}

std::int64_t curl_multi_want(CURLM* multi, std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
  // curl asks for nothing it cannot say with a descriptor or a timeout, except while it resolves
  // a name without one: then it is looked at again after a short while, as libcurl advises.
  constexpr std::int64_t kCurlBusyPoll_ns = 100 * kNsPerMs;
  fd_set read_set, write_set, error_set;
  FD_ZERO(&read_set);
  FD_ZERO(&write_set);
  FD_ZERO(&error_set);
  int max_fd = -1;
  curl_multi_fdset(multi, &read_set, &write_set, &error_set, &max_fd);
  for (int fd = 0; fd <= max_fd; ++fd) {
    short events = 0;
    if (FD_ISSET(fd, &read_set)) events |= POLLIN;
    if (FD_ISSET(fd, &write_set)) events |= POLLOUT;
    if (FD_ISSET(fd, &error_set)) events |= POLLPRI;
    if (events != 0) fds.push_back({fd, events, 0});
  }
  long timeout_ms = -1;
  curl_multi_timeout(multi, &timeout_ms);
  std::int64_t due = timeout_ms >= 0 ? now_mono_ns + timeout_ms * kNsPerMs : io::kNever;
  if (max_fd < 0) due = std::min(due, now_mono_ns + kCurlBusyPoll_ns);
  return due;
}

std::vector<std::string> credential_warnings(const InfluxConfig& config, bool env_token) {
  std::vector<std::string> out;
  const bool v2 = config.api == "v2";
  const auto world_readable = [&out](const std::string& path, const char* what, const char* flag) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) return;
    out.push_back(fmt::format("influx: the {} file '{}' ({}) can be read by every user of this machine (mode {:04o}); "
                              "chmod o-rwx '{}'",
                              what, path, flag, st.st_mode & 07777, path));
  };
  if (v2 && !env_token) world_readable(config.token_file, "token", "--influx-token-file");
  if (!v2) world_readable(config.password_file, "password", "--influx-password-file");
  const bool credentials = (v2 && (env_token || !config.token_file.empty())) ||
                           (!v2 && (!config.user.empty() || !config.password_file.empty())) ||
                           url_has_user_info(config.url);
  if (credentials && starts_with_no_case(config.url, "http://")) {
    const std::string host = url_host(config.url);
    if (!host.empty() && !is_loopback_host(host))
      out.push_back(fmt::format("influx: the InfluxDB {} goes unencrypted over plain http:// to {}; anyone on the "
                                "way can read it: use https:// (with --influx-ca-file for a private CA)",
                                v2 ? "token" : "user and password", host));
  }
  return out;
}

Outcome classify_transfer(CURLcode result, long http_status) {
  switch (result) {
    case CURLE_OK: return classify_http_status(http_status);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED: return Outcome::kTlsFailure;
    default: return Outcome::kUnreachable;
  }
}

std::string write_url(const InfluxConfig& config) {
  if (config.url.empty()) throw UserError("InfluxDB: --influx-url is empty");
  std::string base = config.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (config.api == "v2") {
    if (config.bucket.empty()) throw UserError("InfluxDB v2 needs a bucket: set --influx-bucket (influx.bucket)");
    return base + "/api/v2/write?org=" + percent_encode(config.org) + "&bucket=" + percent_encode(config.bucket) +
           "&precision=ms";
  }
  if (config.api != "v1") throw UserError("--influx-api '" + config.api + "': expected v1 or v2");
  if (config.db.empty()) throw UserError("InfluxDB v1 needs a database: set --influx-db (influx.db)");
  std::string url = base + "/write?db=" + percent_encode(config.db);
  if (!config.rp.empty()) url += "&rp=" + percent_encode(config.rp);
  return url + "&precision=ms";
}

// One HTTP request in flight. Members are destroyed in reverse order: the easy handle goes
// first (after the destructor detached it from the multi handle), the buffers it points into
// after it.
struct Sender::Request {
  CURLM* multi = nullptr;
  std::unique_ptr<curl_slist, SlistDelete> headers;
  std::string body;
  std::string response;
  std::optional<std::int64_t> retry_after_ms;
  char error[CURL_ERROR_SIZE] = {};  // curl's detailed reason ("SSL certificate problem: ...")
  Bisector::Range range{0, 0};
  std::unique_ptr<CURL, EasyDelete> easy;

  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request() {
    if (easy && multi != nullptr) curl_multi_remove_handle(multi, easy.get());
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    append_capped(static_cast<Request*>(self)->response, data, size * n, kMaxResponseBytes);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    if (auto ms = retry_after_header_ms(std::string_view(data, size * n))) static_cast<Request*>(self)->retry_after_ms = ms;
    return size * n;
  }
};

Sender::Sender(store::Outbox& outbox, SenderConfig config, LogSink log)
    : outbox_(outbox), config_(std::move(config)), log_(std::move(log)), multi_(new_multi(), multi_delete),
      batch_limit_(std::max<std::size_t>(config_.batch_lines, 1)), random_(std::random_device{}()) {
  url_ = write_url(config_.influx);
  log_url_ = loggable_url(url_);
  bool env_token = false;
  if (config_.influx.api == "v2") {
    if (!config_.influx.token_file.empty()) {
      token_ = read_secret(config_.influx.token_file, "token", "--influx-token-file");
    } else if (const char* env = std::getenv("CTMON_INFLUX_TOKEN"); env != nullptr && *env != '\0') {
      token_ = env;
      env_token = true;
    } else {
      throw UserError("InfluxDB v2 needs a token: put it in a file and pass --influx-token-file FILE "
                      "(or set CTMON_INFLUX_TOKEN); it is never taken from the command line");
    }
  } else if (!config_.influx.password_file.empty()) {
    password_ = read_secret(config_.influx.password_file, "password", "--influx-password-file");
  }
  if (log_)
    for (const std::string& w : credential_warnings(config_.influx, env_token)) log_(Severity::kWarning, w);
}

Sender::~Sender() = default;

void Sender::pump(std::int64_t now_mono_ns) {
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg == CURLMSG_DONE && request_ && msg->easy_handle == request_->easy.get())
      complete(msg->data.result, now_mono_ns);
  }
  if (!request_ && now_mono_ns >= next_try_mono_ns_) {
    start_request(now_mono_ns);
    if (request_) curl_multi_perform(multi_.get(), &running);
  }
}

bool Sender::wait(int extra_fd, int timeout_ms) {
  if (!request_ && (failures_ > 0 || !batch_.empty())) {
    const std::int64_t until_retry_ms = (next_try_mono_ns_ - clock_ns(CLOCK_MONOTONIC)) / kNsPerMs;
    timeout_ms = static_cast<int>(std::clamp<std::int64_t>(until_retry_ms + 1, 0, timeout_ms));
  }
  curl_waitfd extra{};
  extra.fd = extra_fd;
  extra.events = CURL_WAIT_POLLIN;
  const CURLMcode rc = curl_multi_poll(multi_.get(), extra_fd >= 0 ? &extra : nullptr, extra_fd >= 0 ? 1 : 0,
                                       std::max(timeout_ms, 0), nullptr);
  if (rc != CURLM_OK) {
    // Should not happen; fall back to a plain poll so the caller's timing holds.
    pollfd p{extra_fd, POLLIN, 0};
    return extra_fd >= 0 && poll(&p, 1, std::max(timeout_ms, 0)) > 0;
  }
  return extra_fd >= 0 && (extra.revents & CURL_WAIT_POLLIN) != 0;
}

std::int64_t Sender::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const {
  if (request_) return curl_multi_want(multi_.get(), fds, now_mono_ns);
  if (failures_ > 0 || !batch_.empty()) return next_try_mono_ns_;
  if (more_queued_) return std::max(next_try_mono_ns_, next_idle_peek_mono_ns_);
  return io::kNever;
}

bool Sender::drain(std::int64_t deadline_mono_ns) {
  constexpr int kDrainPoll_ms = 200;
  for (;;) {
    const std::int64_t now = clock_ns(CLOCK_MONOTONIC);
    pump(now);
    if (!request_ && batch_.empty()) {
      try {
        if (outbox_.size() == 0) return true;
      } catch (const store::SqliteError&) {
      }
    }
    if (now >= deadline_mono_ns) return false;
    wait(-1, static_cast<int>(std::min<std::int64_t>(kDrainPoll_ms, (deadline_mono_ns - now) / kNsPerMs + 1)));
  }
}

void Sender::start_request(std::int64_t now_mono_ns) {
  if (batch_.empty()) {
    if (now_mono_ns < next_idle_peek_mono_ns_) return;
    try {
      batch_ = outbox_.peek(batch_limit_, clock_ns(CLOCK_REALTIME));
    } catch (const store::SqliteError& e) {
      if (log_) log_(Severity::kWarning, fmt::format("influx: cannot read the outbox ({}); retrying", e.what()));
      next_idle_peek_mono_ns_ = now_mono_ns + kIdlePeekInterval_ns;
      return;
    }
    if (batch_.empty()) {
      next_idle_peek_mono_ns_ = now_mono_ns + kIdlePeekInterval_ns;
      more_queued_ = false;
      if (failures_ == 0) status_.state = "idle";
      return;
    }
    bisect_.reset(batch_.size());
  }
  auto req = std::make_unique<Request>();
  req->range = bisect_.current();
  std::string body;
  for (std::size_t i = req->range.first; i < req->range.second; ++i) {
    body += batch_[i].line;
    body += '\n';
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: text/plain; charset=utf-8");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (config_.gzip) {
    body = gzip_compress(body);
    headers = curl_slist_append(headers, "Content-Encoding: gzip");
  }
  if (config_.influx.api == "v2") headers = curl_slist_append(headers, ("Authorization: Token " + token_).c_str());
  req->headers.reset(headers);
  req->body = std::move(body);
  req->easy.reset(curl_easy_init());
  CURL* h = req->easy.get();
  if (h == nullptr || headers == nullptr) {
    fail(Outcome::kUnreachable, "curl could not allocate a request", std::nullopt, now_mono_ns);
    return;
  }
  const long timeout_ms = std::max(1L, static_cast<long>(config_.influx.timeout_s * 1000));
  set_post_options(h, url_, *req, headers, timeout_ms);
  if (!config_.influx.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, config_.influx.ca_file.c_str());
  if (config_.influx.api == "v1" && !config_.influx.user.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, config_.influx.user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password_.c_str());
  }
  if (curl_multi_add_handle(multi_.get(), h) != CURLM_OK) {
    fail(Outcome::kUnreachable, "curl refused the request", std::nullopt, now_mono_ns);
    return;
  }
  req->multi = multi_.get();
  request_ = std::move(req);
  if (failures_ == 0) status_.state = "sending";
}

void Sender::complete(CURLcode result, std::int64_t now_mono_ns) {
  const std::unique_ptr<Request> req = std::move(request_);  // detached and freed on return
  long code = 0;
  if (result == CURLE_OK) curl_easy_getinfo(req->easy.get(), CURLINFO_RESPONSE_CODE, &code);
  const Outcome outcome = classify_transfer(result, code);
  const auto [first, end] = req->range;
  const auto ids_of_range = [&, first = first, end = end] {
    std::vector<std::int64_t> ids;
    for (std::size_t i = first; i < end; ++i) ids.push_back(batch_[i].id);
    return ids;
  };
  const auto remove = [&](const std::vector<std::int64_t>& ids) {
    try {
      outbox_.remove(ids);
    } catch (const store::SqliteError& e) {
      // Sent but still queued: they will be sent again, which InfluxDB treats as a rewrite.
      if (log_) log_(Severity::kWarning, fmt::format("influx: cannot delete sent lines from the outbox ({})", e.what()));
      batch_.clear();
    }
  };

  switch (outcome) {
    case Outcome::kSent: {
      remove(ids_of_range());
      if (!batch_.empty()) bisect_.accepted();
      status_.sent_lines += end - first;
      more_queued_ = true;  // a full batch may have left lines behind
      status_.last_success_wall_ns = clock_ns(CLOCK_REALTIME);
      status_.state = "ok";
      status_.detail.clear();
      if (condition_.clear() && log_)
        log_(Severity::kInfo, fmt::format("influx: writing to {} works again", log_url_));
      failures_ = 0;
      next_try_mono_ns_ = now_mono_ns;
      break;
    }
    case Outcome::kTooLarge: {
      // The server's body limit holds for every later request too: halve the batch size for
      // good and re-read the outbox in batches of that size (the lines are still queued there).
      if (end - first == 1) {
        set_aside(batch_[first], code, "request too large even alone");
        remove({batch_[first].id});
      }
      batch_limit_ = std::max<std::size_t>(1, (end - first) / 2);
      batch_.clear();
      next_try_mono_ns_ = now_mono_ns;
      break;
    }
    case Outcome::kBadBatch: {
      const bool single = end - first == 1;
      if (bisect_.refused() || single) {
        set_aside(batch_[first], code, one_line(req->response, 500));
        remove({batch_[first].id});
      }
      next_try_mono_ns_ = now_mono_ns;
      break;
    }
    default: {
      std::string detail =
          result != CURLE_OK
              ? fmt::format("no answer from {}: {}", log_url_,
                            req->error[0] != '\0' ? one_line(req->error, 300) : curl_easy_strerror(result))
              : fmt::format("{} answered {} ({}): {}", log_url_, code, to_string(outcome), one_line(req->response, 300));
      fail(outcome, detail, outcome == Outcome::kThrottled ? req->retry_after_ms : std::nullopt, now_mono_ns);
      return;
    }
  }
  if (bisect_.done()) batch_.clear();
}

void Sender::fail(Outcome outcome, const std::string& detail, std::optional<std::int64_t> retry_after_ms,
                  std::int64_t now_mono_ns) {
  ++failures_;
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  const std::int64_t delay_ms = retry_after_ms ? *retry_after_ms : backoff_delay_ms(failures_, unit);
  next_try_mono_ns_ = now_mono_ns + delay_ms * kNsPerMs;
  // Start over at the next try: the outbox may meanwhile hold markers that should go first.
  batch_.clear();
  status_.state = std::string(to_string(outcome));
  const std::string h = hint(outcome);
  status_.detail = h.empty() ? detail : detail + "; " + h;
  if (condition_.enter(outcome) && log_) {
    std::size_t queued = 0;
    try {
      queued = outbox_.size();
    } catch (const store::SqliteError&) {
    }
    log_(outcome == Outcome::kThrottled || outcome == Outcome::kUnreachable ? Severity::kWarning : Severity::kError,
         fmt::format("influx: {}; {} lines kept in the outbox, retrying with backoff (next in {:.1f} s)", status_.detail,
                     queued, static_cast<double>(delay_ms) / 1000));
  }
}

void Sender::set_aside(const store::OutboxEntry& entry, long http_status, const std::string& reason) {
  ++status_.rejected_lines;
  bool saved = false;
  if (!config_.rejected_path.empty()) {
    saved = append_private(config_.rejected_path,
                           fmt::format("{}\t{}\t{}\t{}\n", clock_ns(CLOCK_REALTIME) / kNsPerMs, http_status,
                                       one_line(reason, 1000), entry.line));
  }
  if (log_)
    log_(Severity::kError,
         fmt::format("influx: {} refused a line ({}): {}; {}", log_url_, one_line(reason, 300),
                     one_line(entry.line, kMaxLoggedLineChars),
                     saved ? "set aside in " + config_.rejected_path
                           : std::string("it could not be saved elsewhere: this log line is its only copy")));
}

std::string Sender::hint(Outcome outcome) const {
  const bool v2 = config_.influx.api == "v2";
  switch (outcome) {
    case Outcome::kUnauthorized:
      return v2 ? "check the token in --influx-token-file (InfluxDB 1.x before 1.8 refuses token auth)"
                : "check --influx-user and --influx-password-file";
    case Outcome::kForbidden:
      return v2 ? "the token may not write to bucket '" + config_.influx.bucket + "'"
                : "user '" + config_.influx.user + "' may not write to database '" + config_.influx.db + "'";
    case Outcome::kNotFound:
      return v2 ? "org '" + config_.influx.org + "' or bucket '" + config_.influx.bucket +
                      "' does not exist, or the server has no /api/v2/write (InfluxDB 1.x before 1.8: use --influx-api v1)"
                : "database '" + config_.influx.db + "' does not exist (CREATE DATABASE \"" + config_.influx.db +
                      "\") or --influx-url is wrong";
    case Outcome::kUnreachable: return "is InfluxDB running and reachable from here?";
    case Outcome::kTlsFailure:
      return "the TLS connection was refused: check that the certificate names the host of --influx-url, that "
             "--influx-ca-file holds the CA that signed it (for a self-signed one, the certificate itself), that "
             "this machine's clock is right, and that the port speaks https";
    default: return "";
  }
}

status::InfluxStatus Sender::status() const {
  status::InfluxStatus s = status_;
  try {
    s.queued = outbox_.size();
  } catch (const store::SqliteError&) {
  }
  if (failures_ > 0) s.retry_in_ms = std::max<std::int64_t>(0, (next_try_mono_ns_ - clock_ns(CLOCK_MONOTONIC)) / kNsPerMs);
  return s;
}

}  // namespace ctmon::influx

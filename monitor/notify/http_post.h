#pragma once
// One HTTP POST at a time through curl's multi interface, driven by the daemon's poll loop
// (want() gives curl's descriptors and timeout, pump() makes progress): the webhook's transport.
// Never blocks; a name lookup without a descriptor is looked at every 100 ms, as libcurl
// advises. The InfluxDB sender (influx/sender.h) drives curl the same way with batching and
// bisection of its own; the answer is classified by the same function (classify_transfer).

#include <curl/curl.h>
#include <poll.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ctmon::notify {

/// How one POST ended.
struct HttpAnswer {
  CURLcode result = CURLE_OK;
  long status = 0;                             ///< 0 when there was no HTTP answer
  std::optional<std::int64_t> retry_after_ms;  ///< from Retry-After, in seconds form
  std::string error;                           ///< curl's detailed reason, when result != CURLE_OK
  std::string response;                        ///< the first kMaxResponseBytes of the body
};

class HttpPost {
 public:
  static constexpr std::size_t kMaxResponseBytes = 1024;

  HttpPost();
  ~HttpPost();
  HttpPost(const HttpPost&) = delete;
  HttpPost& operator=(const HttpPost&) = delete;

  /// Starts a POST of `body` with `headers` ("Name: value"). Returns false (with `why`) when curl
  /// cannot start it. Only while !busy().
  bool start(const std::string& url, std::string body, const std::vector<std::string>& headers, long timeout_ms,
             std::string& why);

  [[nodiscard]] bool busy() const { return request_ != nullptr; }

  /// Progress without blocking; the answer once the POST finished.
  std::optional<HttpAnswer> pump();

  /// curl's descriptors, appended to `fds`, and when pump() is due anyway; INT64_MAX when idle.
  [[nodiscard]] std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const;

 private:
  struct Request;
  std::unique_ptr<CURLM, void (*)(CURLM*)> multi_;
  std::unique_ptr<Request> request_;
};

}  // namespace ctmon::notify

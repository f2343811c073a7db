#include "monitor/notify/http_post.h"

#include <mutex>
#include <stdexcept>

#include "monitor/influx/retry_policy.h"
#include "monitor/influx/sender.h"
#include "monitor/io/part.h"

namespace ctmon::notify {
namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;

CURLM* new_multi() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLM* m = curl_multi_init();
  if (m == nullptr) throw std::runtime_error("curl_multi_init failed");
  return m;
}

void multi_delete(CURLM* m) { curl_multi_cleanup(m); }

}  // namespace

// One POST: the easy handle, its headers and body, kept alive until curl is done with them.
struct HttpPost::Request {
  CURLM* multi = nullptr;
  std::unique_ptr<CURL, void (*)(CURL*)> easy{nullptr, curl_easy_cleanup};
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers{nullptr, curl_slist_free_all};
  std::string body;
  HttpAnswer answer;
  char error[CURL_ERROR_SIZE] = {};

  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request() {
    if (easy && multi != nullptr) curl_multi_remove_handle(multi, easy.get());
  }

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    influx::append_capped(static_cast<Request*>(self)->answer.response, data, size * n, kMaxResponseBytes);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    if (auto ms = influx::retry_after_header_ms(std::string_view(data, size * n)))
      static_cast<Request*>(self)->answer.retry_after_ms = ms;
    return size * n;
  }
};

HttpPost::HttpPost() : multi_(new_multi(), multi_delete) {}

HttpPost::~HttpPost() = default;

bool HttpPost::start(const std::string& url, std::string body, const std::vector<std::string>& headers,
                     long timeout_ms, std::string& why) {
  auto req = std::make_unique<Request>();
  req->body = std::move(body);
  curl_slist* list = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const std::string& h : headers)
    if (list != nullptr) list = curl_slist_append(list, h.c_str());
  req->headers.reset(list);
  req->easy.reset(curl_easy_init());
  CURL* h = req->easy.get();
  if (h == nullptr || list == nullptr) {
    why = "curl could not allocate a request";
    return false;
  }
  influx::set_post_options(h, url, *req, list, timeout_ms);
  // Only what notify.url allows, also for redirects a receiver might answer with.
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  if (curl_multi_add_handle(multi_.get(), h) != CURLM_OK) {
    why = "curl refused the request";
    return false;
  }
  req->multi = multi_.get();
  request_ = std::move(req);
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
  return true;
}

std::optional<HttpAnswer> HttpPost::pump() {
  if (!request_) return std::nullopt;
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE || msg->easy_handle != request_->easy.get()) continue;
    const std::unique_ptr<Request> done = std::move(request_);
    HttpAnswer answer = std::move(done->answer);
    answer.result = msg->data.result;
    if (answer.result == CURLE_OK)
      curl_easy_getinfo(done->easy.get(), CURLINFO_RESPONSE_CODE, &answer.status);
    else
      answer.error = done->error[0] != '\0' ? std::string(done->error) : curl_easy_strerror(answer.result);
    return answer;
  }
  return std::nullopt;
}

std::int64_t HttpPost::want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) const {
  if (!request_) return io::kNever;
  return influx::curl_multi_want(multi_.get(), fds, now_mono_ns);
}

}  // namespace ctmon::notify

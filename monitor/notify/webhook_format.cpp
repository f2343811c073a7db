#include "monitor/notify/webhook_format.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ctmon::notify {
namespace {

// The host of `url`, lower case, without user info, port or brackets.
std::string url_host(std::string_view url) {
  const std::size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    rest = rest.substr(1, rest.find(']') == std::string_view::npos ? std::string_view::npos : rest.find(']') - 1);
  } else {
    rest = rest.substr(0, rest.find(':'));
  }
  std::string host(rest);
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host;
}

// A header value on one line: control characters become spaces.
std::string header_value(std::string text) {
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

}  // namespace

WebhookFormat choose_format(std::string_view setting, std::string_view url) {
  if (setting == "json") return WebhookFormat::kJson;
  if (setting == "ntfy") return WebhookFormat::kNtfy;
  return url_host(url) == "ntfy.sh" ? WebhookFormat::kNtfy : WebhookFormat::kJson;
}

std::string_view to_string(WebhookFormat format) { return format == WebhookFormat::kNtfy ? "ntfy" : "json"; }

std::string notification_id(std::uint64_t episode_id, std::int64_t start_wall_ns, std::string_view state) {
  return fmt::format("{}-{}-{}", episode_id, start_wall_ns / 1'000'000, state);
}

WebhookRequest webhook_request(const store::Notification& n, WebhookFormat format, std::string_view host) {
  WebhookRequest r;
  r.headers.push_back("X-Ctmon-Notification-Id: " + header_value(n.notification_id));
  r.headers.push_back("X-Ctmon-State: " + header_value(n.state));
  const bool closed = n.state == "close";
  if (format == WebhookFormat::kJson) {
    r.headers.emplace_back("Content-Type: application/json");
    if (!n.held_back_note.empty()) r.headers.push_back("X-Ctmon-Held-Back: " + header_value(n.held_back_note));
    if (!n.held_back_ids.empty()) r.headers.push_back("X-Ctmon-Held-Back-Ids: " + header_value(n.held_back_ids));
    r.body = n.event + "\n";
    return r;
  }
  const nlohmann::json event = nlohmann::json::parse(n.event);
  const std::string kind = event.at("kind").get<std::string>();
  const double score = event.at("score").get<double>();
  r.headers.emplace_back("Content-Type: text/plain; charset=utf-8");
  r.headers.push_back(header_value(closed ? fmt::format("Title: {}: {} episode is over", host, kind)
                                          : fmt::format("Title: {}: {} episode (score {:.2f})", host, kind, score)));
  r.headers.push_back(fmt::format("Priority: {}", closed ? 2 : score >= 0.8 ? 4 : 3));
  r.headers.push_back(header_value(fmt::format("Tags: {},{}", closed ? "white_check_mark" : "warning", kind)));
  r.body = event.at("summary").get<std::string>();
  if (!n.held_back_note.empty()) r.body += "\n" + n.held_back_note;
  return r;
}

}  // namespace ctmon::notify

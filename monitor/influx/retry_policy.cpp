#include "monitor/influx/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace ctmon::influx {

Outcome classify_http_status(long status) {
  if (status == 0) return Outcome::kUnreachable;
  if (status >= 200 && status < 300) return Outcome::kSent;
  switch (status) {
    case 400:
    case 422: return Outcome::kBadBatch;
    case 413: return Outcome::kTooLarge;
    case 429:
    case 503: return Outcome::kThrottled;
    case 401: return Outcome::kUnauthorized;
    case 403: return Outcome::kForbidden;
    case 404: return Outcome::kNotFound;
    default: return Outcome::kServerError;
  }
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSent: return "ok";
    case Outcome::kBadBatch: return "line refused";
    case Outcome::kTooLarge: return "request too large";
    case Outcome::kThrottled: return "throttled";
    case Outcome::kUnauthorized: return "unauthorized";
    case Outcome::kForbidden: return "forbidden";
    case Outcome::kNotFound: return "not found";
    case Outcome::kServerError: return "server error";
    case Outcome::kUnreachable: return "unreachable";
    case Outcome::kTlsFailure: return "TLS failure";
  }
  return "?";
}

std::int64_t backoff_delay_ms(std::uint32_t failures, double unit_random, std::int64_t initial_ms,
                              std::int64_t max_ms) {
  if (failures == 0) return 0;
  const std::uint32_t doublings = std::min<std::uint32_t>(failures - 1, 40);  // 2^40 s is past any cap
  const double full = std::min(static_cast<double>(max_ms), static_cast<double>(initial_ms) * std::ldexp(1.0, static_cast<int>(doublings)));
  const double r = std::clamp(unit_random, 0.0, 1.0);
  return static_cast<std::int64_t>(full / 2 + full / 2 * r);
}

std::optional<std::int64_t> retry_after_header_ms(std::string_view line) {
  constexpr std::string_view kName = "retry-after:";
  if (line.size() <= kName.size()) return std::nullopt;
  for (std::size_t i = 0; i < kName.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return std::nullopt;
  return parse_retry_after_ms(line.substr(kName.size()));
}

std::optional<std::int64_t> parse_retry_after_ms(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n'))
    value.remove_suffix(1);
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::min(seconds, kRetryAfterMax_ms / 1000) * 1000;
}

void Bisector::reset(std::size_t n) {
  stack_.clear();
  if (n > 0) stack_.push_back({0, n});
}

bool Bisector::refused() {
  const Range r = stack_.back();
  stack_.pop_back();
  if (r.second - r.first <= 1) return true;
  const std::size_t mid = r.first + (r.second - r.first) / 2;
  stack_.push_back({mid, r.second});
  stack_.push_back({r.first, mid});
  return false;
}

}  // namespace ctmon::influx

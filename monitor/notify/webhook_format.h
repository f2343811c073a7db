#pragma once
// What the webhook sends for one notification: the body and headers of its POST. Pure (no I/O),
// so both forms are unit-tested byte for byte.
//
// notify.format decides the form, and "auto" follows one rule that needs no guessing: ntfy when
// the URL's host is ntfy.sh (any letter case), else json. A self-hosted ntfy server is named
// with format = "ntfy".
//   json  Content-Type: application/json; the body is the episode's events JSON line, exactly as
//         `ctmon events --json` prints it (with its newline). What the rate limit held back is
//         told in headers (X-Ctmon-Held-Back: the note "and 3 more episodes since 14:02: ...",
//         X-Ctmon-Held-Back-Ids: "12,13,14"), so the body stays the events contract.
//   ntfy  ntfy's plain-text publish: the body is the episode's summary (and the held-back note
//         on a second line), Title "<host>: <kind> episode (score 0.81)" or "... is over",
//         Priority 4 (high) from a score of 0.8, else 3 (default), 2 (low) for a close, and Tags
//         "warning" or "white_check_mark" with the kind.
// Every request also carries X-Ctmon-Notification-Id (the same on every try: a receiver drops
// a repeat by it) and X-Ctmon-State (open or close).

#include <string>
#include <string_view>
#include <vector>

#include "monitor/store/notify_outbox.h"

namespace ctmon::notify {

enum class WebhookFormat { kJson, kNtfy };

/// notify.format ("auto", "json", "ntfy") for `url`, by the rule above.
[[nodiscard]] WebhookFormat choose_format(std::string_view setting, std::string_view url);

[[nodiscard]] std::string_view to_string(WebhookFormat format);

struct WebhookRequest {
  std::string body;
  std::vector<std::string> headers;  ///< "Name: value", no line breaks

  friend bool operator==(const WebhookRequest&, const WebhookRequest&) = default;
};

/// The POST for `n` (its event must be an events-contract line; throws nlohmann::json::exception
/// when it is not JSON). `host` names the router in the ntfy title.
[[nodiscard]] WebhookRequest webhook_request(const store::Notification& n, WebhookFormat format,
                                             std::string_view host);

/// "<episode id>-<start in ms>-<open|close>": stable over every try and every restart, and
/// unique per episode even after the database was reset (the start time differs).
[[nodiscard]] std::string notification_id(std::uint64_t episode_id, std::int64_t start_wall_ns, std::string_view state);

}  // namespace ctmon::notify

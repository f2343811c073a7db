#include "monitor/notify/webhook_format.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/episode.h"
#include "monitor/events/events_json.h"

namespace ctmon::notify {
namespace {

Episode sample_episode(double score) {
  Episode e;
  e.id = 12;
  e.start_wall_ns = 1'765'000'000'123'456'789;
  e.peak_score = score;
  e.kind = EpisodeKind::wan_drop;
  e.summary = "tcp_conntrack_fwd_new fell to 0.0/s (expected 40.0/s)";
  return e;
}

store::Notification notification(const Episode& e, const char* state, std::string note = "", std::string ids = "") {
  store::Notification n;
  n.notification_id = notification_id(e.id, e.start_wall_ns, state);
  n.state = state;
  n.event = events::episode_json_line(e);
  n.held_back_note = std::move(note);
  n.held_back_ids = std::move(ids);
  return n;
}

TEST_CASE("auto is ntfy only when the URL's host is ntfy.sh; json and ntfy are taken as given") {
  CHECK(choose_format("auto", "https://ntfy.sh/my-router") == WebhookFormat::kNtfy);
  CHECK(choose_format("auto", "https://NTFY.SH/my-router?auth=x") == WebhookFormat::kNtfy);
  CHECK(choose_format("auto", "https://user:pw@ntfy.sh:443/t") == WebhookFormat::kNtfy);
  CHECK(choose_format("auto", "https://ntfy.example.org/t") == WebhookFormat::kJson);
  CHECK(choose_format("auto", "https://example.org/ntfy.sh") == WebhookFormat::kJson);
  CHECK(choose_format("auto", "http://notntfy.sh/t") == WebhookFormat::kJson);
  CHECK(choose_format("auto", "http://[::1]:8080/hook") == WebhookFormat::kJson);
  CHECK(choose_format("ntfy", "http://192.168.1.5/alerts") == WebhookFormat::kNtfy);
  CHECK(choose_format("json", "https://ntfy.sh/t") == WebhookFormat::kJson);
  CHECK(to_string(WebhookFormat::kNtfy) == "ntfy");
  CHECK(to_string(WebhookFormat::kJson) == "json");
}

TEST_CASE("the notification id is stable and differs by episode, start and state") {
  CHECK(notification_id(12, 1'765'000'000'123'456'789, "open") == "12-1765000000123-open");
  CHECK(notification_id(12, 1'765'000'000'123'456'789, "close") == "12-1765000000123-close");
  CHECK(notification_id(12, 1'765'000'001'000'000'000, "open") != notification_id(12, 1'765'000'000'123'456'789, "open"));
}

TEST_CASE("json: the body is the episode's events JSON line, byte for byte") {
  const Episode e = sample_episode(0.81);
  const WebhookRequest r = webhook_request(notification(e, "open"), WebhookFormat::kJson, "gw1");
  CHECK(r.body == events::episode_json_line(e) + "\n");
  CHECK(nlohmann::json::parse(r.body).at("id") == 12);
  CHECK(r.headers == std::vector<std::string>{"X-Ctmon-Notification-Id: 12-1765000000123-open", "X-Ctmon-State: open",
                                              "Content-Type: application/json"});
}

TEST_CASE("json: what the rate limit held back goes in headers, the body stays the events line") {
  const Episode e = sample_episode(0.5);
  const WebhookRequest r = webhook_request(notification(e, "open", "and 2 more episodes\nsince 14:02: scan 0.60", "3,4"),
                                           WebhookFormat::kJson, "gw1");
  CHECK(r.body == events::episode_json_line(e) + "\n");
  CHECK(r.headers[3] == "X-Ctmon-Held-Back: and 2 more episodes since 14:02: scan 0.60");  // one line
  CHECK(r.headers[4] == "X-Ctmon-Held-Back-Ids: 3,4");
}

TEST_CASE("ntfy: plain text with title, priority and tags") {
  SECTION("open, high score") {
    const Episode e = sample_episode(0.81);
    const WebhookRequest r = webhook_request(notification(e, "open", "and 1 more episode since 14:02: scan 0.60 at 14:02"),
                                             WebhookFormat::kNtfy, "gw1");
    CHECK(r.body == e.summary + "\nand 1 more episode since 14:02: scan 0.60 at 14:02");
    CHECK(r.headers == std::vector<std::string>{"X-Ctmon-Notification-Id: 12-1765000000123-open", "X-Ctmon-State: open",
                                                "Content-Type: text/plain; charset=utf-8",
                                                "Title: gw1: wan_drop episode (score 0.81)", "Priority: 4",
                                                "Tags: warning,wan_drop"});
  }
  SECTION("open, lower score: default priority") {
    const WebhookRequest r = webhook_request(notification(sample_episode(0.79), "open"), WebhookFormat::kNtfy, "gw1");
    CHECK(r.body == sample_episode(0.79).summary);
    CHECK(r.headers[4] == "Priority: 3");
  }
  SECTION("close: low priority, a check mark") {
    Episode e = sample_episode(0.9);
    e.open = false;
    e.end_wall_ns = e.start_wall_ns + 60'000'000'000;
    const WebhookRequest r = webhook_request(notification(e, "close"), WebhookFormat::kNtfy, "gw1");
    CHECK(r.headers[3] == "Title: gw1: wan_drop episode is over");
    CHECK(r.headers[4] == "Priority: 2");
    CHECK(r.headers[5] == "Tags: white_check_mark,wan_drop");
  }
  SECTION("a host name with a line break cannot split a header") {
    const WebhookRequest r = webhook_request(notification(sample_episode(0.5), "open"), WebhookFormat::kNtfy, "gw\r\nX: y");
    CHECK(r.headers[3] == "Title: gw  X: y: wan_drop episode (score 0.50)");
  }
}

TEST_CASE("ntfy: a stored event that is not JSON throws instead of sending garbage") {
  store::Notification n = notification(sample_episode(0.5), "open");
  n.event = "not json";
  CHECK_THROWS_AS(webhook_request(n, WebhookFormat::kNtfy, "gw1"), nlohmann::json::exception);
}

}  // namespace
}  // namespace ctmon::notify

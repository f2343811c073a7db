#pragma once
// Which episodes the webhook tells a person about, and when (README "Get notified"). Pure: no
// clock, no I/O; the caller passes the times, so every rule is unit-tested.
//
//   min_score  an episode is told about when its peak score first reaches it: at its open, or
//              later when its peak grows (opened at 0.4, peaked at 0.9: told at the 0.9).
//   kinds      only these kinds (empty: every kind).
//   min_gap    at most one episode notification per min_gap (monotonic time). One that comes
//              sooner is held back; once the gap has passed, the next notification (a new
//              episode, or else the newest held-back one, sent when the gap ends) sums up the
//              others: "and 3 more episodes since 14:02: ...". Nothing held back is lost
//              silently, but the list lives in RAM: a restart within the gap forgets it (the
//              episodes stay in `ctmon events`).
//   on_close   a close message for an episode whose open message went out (not for one only
//              summed up in another). Close messages do not count against min_gap: they answer
//              a message the person already has.
// An episode still open at a restart was told about by the run before when it qualifies
// (resume()), so only its close is sent.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/episode.h"
#include "monitor/notify/hook_env.h"

namespace ctmon::notify {

struct NotifyPolicyConfig {
  double min_score = 0;
  std::vector<EpisodeKind> kinds;  ///< empty: every kind
  std::int64_t min_gap_ns = 0;     ///< 0: no limit
  bool on_close = false;
};

/// One episode the rate limit held back, as the summary names it.
struct HeldBack {
  std::uint64_t id = 0;
  EpisodeKind kind = EpisodeKind::unknown;
  double peak_score = 0;
  std::int64_t start_wall_ns = 0;

  friend bool operator==(const HeldBack&, const HeldBack&) = default;
};

/// One notification to send: about `episode` (as it is now), its open or its close, summing up
/// `held_back` (oldest first) and `held_back_unnamed` more beyond NotifyPolicy::kMaxHeld.
struct NotifyDecision {
  Episode episode;
  EpisodeState state = EpisodeState::kOpen;
  std::vector<HeldBack> held_back;
  std::size_t held_back_unnamed = 0;
};

/// Parses notify.kinds ("wan_drop, scan"; names checked by kinds_problem()); unknown names are
/// skipped.
[[nodiscard]] std::vector<EpisodeKind> parse_kinds(std::string_view text);

/// "and 3 more episodes since 14:02: wan_drop 0.81, scan 0.60, scan 0.55" for `decision`; at most
/// kMaxNamed named, then "..."; empty when nothing was held back. `hhmm` formats a wall time for
/// the reader (the router's local time of day).
inline constexpr std::size_t kMaxNamed = 5;
[[nodiscard]] std::string held_back_note(const NotifyDecision& decision, std::string (*hhmm)(std::int64_t wall_ns));

/// "12,13,14": the ids of the held-back episodes named in `decision`.
[[nodiscard]] std::string held_back_ids(const NotifyDecision& decision);

class NotifyPolicy {
 public:
  /// At most this many held-back episodes are remembered individually; more are only counted.
  static constexpr std::size_t kMaxHeld = 100;

  explicit NotifyPolicy(NotifyPolicyConfig config) : config_(std::move(config)) {}

  /// Whether `episode`'s kind and peak score ask for a notification.
  [[nodiscard]] bool qualifies(const Episode& episode) const;

  /// An episode opened or its peak moved (`now_mono_ns`: monotonic time): the notification to
  /// send now, if any.
  [[nodiscard]] std::optional<NotifyDecision> on_change(const Episode& episode, std::int64_t now_mono_ns);

  /// An episode closed: its close message, when on_close is set and its open message went out.
  [[nodiscard]] std::optional<NotifyDecision> on_closed(const Episode& episode);

  /// At start: `episode` is open from before the restart; it counts as told about when it
  /// qualifies (the run before told about it).
  void resume(const Episode& episode);

  /// Monotonic time when flush() has a notification for held-back episodes; INT64_MAX: none.
  [[nodiscard]] std::int64_t due() const;

  /// After due(): the newest held-back episode's notification, summing up the others.
  [[nodiscard]] std::optional<NotifyDecision> flush(std::int64_t now_mono_ns);

  /// Held-back episodes not yet summed up in a notification.
  [[nodiscard]] std::size_t held() const { return held_.size() + held_unnamed_; }

 private:
  [[nodiscard]] bool gap_passed(std::int64_t now_mono_ns) const;
  NotifyDecision decide(const Episode& episode, std::int64_t now_mono_ns);

  NotifyPolicyConfig config_;
  std::set<std::uint64_t> told_;     // open message sent; erased at their close
  std::set<std::uint64_t> decided_;  // told or held back: not looked at again; erased at close
  std::vector<HeldBack> held_;       // oldest first, at most kMaxHeld
  std::size_t held_unnamed_ = 0;     // held back past kMaxHeld (the oldest names are dropped)
  std::optional<Episode> newest_held_;  // as last seen: what flush() sends
  std::optional<std::int64_t> last_sent_mono_ns_;
};

}  // namespace ctmon::notify

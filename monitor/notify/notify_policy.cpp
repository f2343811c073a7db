#include "monitor/notify/notify_policy.h"

#include <algorithm>
#include <limits>

#include <fmt/core.h>

namespace ctmon::notify {

std::vector<EpisodeKind> parse_kinds(std::string_view text) {
  constexpr EpisodeKind kAll[] = {EpisodeKind::unknown, EpisodeKind::wan_drop, EpisodeKind::invalid_burst,
                                  EpisodeKind::scan, EpisodeKind::udp_storm, EpisodeKind::conntrack_full};
  std::vector<EpisodeKind> kinds;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    std::string_view name = text.substr(at, comma - at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    for (const EpisodeKind kind : kAll)
      if (to_string(kind) == name && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    at = comma + 1;
  }
  return kinds;
}

std::string held_back_note(const NotifyDecision& decision, std::string (*hhmm)(std::int64_t wall_ns)) {
  const std::size_t total = decision.held_back.size() + decision.held_back_unnamed;
  if (total == 0) return "";
  std::string named;
  for (std::size_t i = 0; i < decision.held_back.size() && i < kMaxNamed; ++i) {
    const HeldBack& h = decision.held_back[i];
    named += fmt::format("{}{} {:.2f} at {}", i == 0 ? "" : ", ", to_string(h.kind), h.peak_score, hhmm(h.start_wall_ns));
  }
  if (total > std::min(decision.held_back.size(), kMaxNamed)) named += ", ...";
  const std::int64_t since = decision.held_back.empty() ? 0 : decision.held_back.front().start_wall_ns;
  return fmt::format("and {} more episode{} {}: {}", total, total == 1 ? "" : "s",
                     decision.held_back_unnamed > 0 || since == 0 ? std::string("before") : "since " + hhmm(since), named);
}

std::string held_back_ids(const NotifyDecision& decision) {
  std::string ids;
  for (const HeldBack& h : decision.held_back) ids += fmt::format("{}{}", ids.empty() ? "" : ",", h.id);
  return ids;
}

bool NotifyPolicy::qualifies(const Episode& episode) const {
  if (!(episode.peak_score >= config_.min_score)) return false;
  return config_.kinds.empty() ||
         std::find(config_.kinds.begin(), config_.kinds.end(), episode.kind) != config_.kinds.end();
}

bool NotifyPolicy::gap_passed(std::int64_t now_mono_ns) const {
  return !last_sent_mono_ns_ || config_.min_gap_ns <= 0 || now_mono_ns - *last_sent_mono_ns_ >= config_.min_gap_ns;
}

NotifyDecision NotifyPolicy::decide(const Episode& episode, std::int64_t now_mono_ns) {
  NotifyDecision d;
  d.episode = episode;
  d.state = EpisodeState::kOpen;
  d.held_back = std::move(held_);
  d.held_back_unnamed = held_unnamed_;
  held_.clear();
  held_unnamed_ = 0;
  newest_held_.reset();
  told_.insert(episode.id);
  last_sent_mono_ns_ = now_mono_ns;
  return d;
}

std::optional<NotifyDecision> NotifyPolicy::on_change(const Episode& episode, std::int64_t now_mono_ns) {
  if (decided_.contains(episode.id)) {
    // Held back and still growing: the summary and flush() show it as it is now.
    if (newest_held_ && newest_held_->id == episode.id) newest_held_ = episode;
    for (HeldBack& h : held_)
      if (h.id == episode.id) h.peak_score = episode.peak_score;
    return std::nullopt;
  }
  if (!qualifies(episode)) return std::nullopt;
  decided_.insert(episode.id);
  if (gap_passed(now_mono_ns)) return decide(episode, now_mono_ns);
  if (held_.size() == kMaxHeld) {
    held_.erase(held_.begin());
    ++held_unnamed_;
  }
  held_.push_back({episode.id, episode.kind, episode.peak_score, episode.start_wall_ns});
  newest_held_ = episode;
  return std::nullopt;
}

std::optional<NotifyDecision> NotifyPolicy::on_closed(const Episode& episode) {
  decided_.erase(episode.id);
  if (newest_held_ && newest_held_->id == episode.id) newest_held_ = episode;
  if (told_.erase(episode.id) == 0 || !config_.on_close) return std::nullopt;
  NotifyDecision d;
  d.episode = episode;
  d.state = EpisodeState::kClose;
  return d;
}

void NotifyPolicy::resume(const Episode& episode) {
  if (!qualifies(episode)) return;
  decided_.insert(episode.id);
  told_.insert(episode.id);
}

std::int64_t NotifyPolicy::due() const {
  if (!newest_held_ || !last_sent_mono_ns_) return std::numeric_limits<std::int64_t>::max();
  return *last_sent_mono_ns_ + config_.min_gap_ns;
}

std::optional<NotifyDecision> NotifyPolicy::flush(std::int64_t now_mono_ns) {
  if (!newest_held_ || !gap_passed(now_mono_ns)) return std::nullopt;
  const Episode newest = *newest_held_;
  // The newest is the subject; the others are summed up.
  held_.erase(std::remove_if(held_.begin(), held_.end(), [&](const HeldBack& h) { return h.id == newest.id; }),
              held_.end());
  NotifyDecision d = decide(newest, now_mono_ns);
  if (newest.open) return d;
  // It closed while held back: its line already says so, and no close message follows.
  told_.erase(newest.id);
  return d;
}

}  // namespace ctmon::notify

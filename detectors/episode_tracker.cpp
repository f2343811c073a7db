#include "detectors/episode_tracker.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "detectors/classify.h"

namespace ctmon {
namespace {

// One counter moving that no kind rule explains (EpisodeConfig::unexplained_extra_samples).
bool lone_and_unexplained(const Episode& e) {
  const auto moved = std::count_if(e.counters.begin(), e.counters.end(),
                                   [](const MovedCounter& c) { return !c.multivariate_driver; });
  return moved <= 1 && !rules_explain(e);
}

void save_episode(ByteWriter& out, const Episode& e) {
  out.u64(e.id);
  out.i64(e.start_wall_ns);
  out.i64(e.end_wall_ns);
  out.u8(e.open ? 1 : 0);
  out.f64(e.peak_score);
  out.i64(e.peak_wall_ns);
  out.u8(e.detectors);
  out.u8(static_cast<std::uint8_t>(e.kind));
  out.u8(static_cast<std::uint8_t>(e.where));
  const EpisodeHealth& h = e.health;
  out.u8(static_cast<std::uint8_t>((h.wan_probed ? 1U : 0U) | (h.lan_probed ? 2U : 0U) | (h.wan_up ? 4U : 0U) |
                                   (h.lan_up ? 8U : 0U) | (h.conntrack_read ? 16U : 0U) | (h.drops_up ? 32U : 0U)));
  out.f64(h.fill_entries);
  out.f64(h.fill_limit);
  out.str(e.summary);
  out.u32(static_cast<std::uint32_t>(e.counters.size()));
  for (const auto& c : e.counters) {
    out.u32(c.id);
    out.str(c.name);
    out.f64(c.peak_pps);
    out.f64(c.baseline_pps);
    out.f64(c.peak_score);
    out.f64(c.peak_z);
    out.i64(c.peak_wall_ns);
    out.u8(c.multivariate_driver ? 1 : 0);
    out.i64(c.first_wall_ns);
  }
}

void load_episode(ByteReader& in, Episode& e) {
  e.id = in.u64();
  e.start_wall_ns = in.i64();
  e.end_wall_ns = in.i64();
  e.open = in.u8() != 0;
  e.peak_score = in.f64();
  e.peak_wall_ns = in.i64();
  e.detectors = in.u8();
  const std::uint8_t kind = in.u8();
  if (kind > static_cast<std::uint8_t>(EpisodeKind::conntrack_full)) in.fail();
  e.kind = static_cast<EpisodeKind>(kind);
  const std::uint8_t where = in.u8();
  if (where > static_cast<std::uint8_t>(Where::lan_device)) in.fail();
  e.where = static_cast<Where>(where);
  const std::uint8_t flags = in.u8();
  if (flags >= 64U) in.fail();
  e.health.wan_probed = (flags & 1U) != 0;
  e.health.lan_probed = (flags & 2U) != 0;
  e.health.wan_up = (flags & 4U) != 0;
  e.health.lan_up = (flags & 8U) != 0;
  e.health.conntrack_read = (flags & 16U) != 0;
  e.health.drops_up = (flags & 32U) != 0;
  e.health.fill_entries = in.f64();
  e.health.fill_limit = in.f64();
  e.summary = in.str();
  const std::uint32_t n = in.u32();
  if (!in.ok() || n > 1024) {
    in.fail();
    return;
  }
  e.counters.assign(n, {});
  for (auto& c : e.counters) {
    c.id = in.u32();
    c.name = in.str();
    c.peak_pps = in.f64();
    c.baseline_pps = in.f64();
    c.peak_score = in.f64();
    c.peak_z = in.f64();
    c.peak_wall_ns = in.i64();
    c.multivariate_driver = in.u8() != 0;
    c.first_wall_ns = in.i64();
  }
}

}  // namespace

void EpisodeTracker::record(std::int64_t wall_ns, double score, std::uint8_t detectors,
                            const std::vector<CounterObservation>& counters,
                            const std::vector<std::string>& names, const EpisodeHealth& health) {
  Episode& e = state_ == State::open ? episode_ : pending_;
  EpisodeHealth& h = e.health;
  h.wan_probed = h.wan_probed || health.wan_probed;
  h.lan_probed = h.lan_probed || health.lan_probed;
  h.wan_up = h.wan_up || health.wan_up;
  h.lan_up = h.lan_up || health.lan_up;
  h.conntrack_read = h.conntrack_read || health.conntrack_read;
  h.drops_up = h.drops_up || health.drops_up;
  if (health.fill_limit > 0 && (h.fill_limit <= 0 || health.fill() > h.fill())) {
    h.fill_entries = health.fill_entries;
    h.fill_limit = health.fill_limit;
  }
  if (score > e.peak_score) {
    e.peak_score = score;
    e.peak_wall_ns = wall_ns;
  }
  e.detectors |= detectors;
  active_end_wall_ns_ = std::max(active_end_wall_ns_, wall_ns);
  for (const CounterObservation& obs : counters) {
    auto it = std::find_if(e.counters.begin(), e.counters.end(),
                           [&](const MovedCounter& m) { return m.id == obs.id; });
    const bool moved = obs.score >= config_.moved_score || obs.multivariate_driver;
    if (it == e.counters.end()) {
      if (!moved || obs.z == 0.0) continue;  // z 0: no direction to describe
      e.counters.push_back({obs.id, obs.id < names.size() ? names[obs.id] : std::string(), obs.pps,
                            obs.baseline_pps, obs.score, obs.z, wall_ns, wall_ns, !(obs.score >= config_.moved_score)});
      if (obs.context) continue;
      if (std::fabs(obs.z) >= config_.still_anomalous_z) rate_end_wall_ns_ = std::max(rate_end_wall_ns_, wall_ns);
      if (obs.shift_peak_wall_ns > 0) rate_end_wall_ns_ = std::max(rate_end_wall_ns_, obs.shift_peak_wall_ns);
      half_peak_end_.emplace_back(obs.id, wall_ns);
      continue;
    }
    const bool rose = it->peak_z > 0;
    const double z_in_direction = rose ? obs.z : -obs.z;
    if (z_in_direction >= config_.still_anomalous_z && !obs.context) rate_end_wall_ns_ = std::max(rate_end_wall_ns_, wall_ns);
    const auto half =
        std::find_if(half_peak_end_.begin(), half_peak_end_.end(), [&](const auto& h) { return h.first == obs.id; });
    if (half != half_peak_end_.end()) {
      // Where the sum peaked, but not past the last sample at least half as far out as the
      // counter's peak: after a burst, a tail of a tenth of it (the router's retransmitted
      // answers to a scan) still feeds the sum, and is not the burst.
      const double half_way = it->baseline_pps + 0.5 * (it->peak_pps - it->baseline_pps);
      if (rose ? obs.pps >= half_way : obs.pps <= half_way) half->second = wall_ns;
      if (obs.shift_peak_wall_ns > 0 && (obs.z > 0) == rose)
        rate_end_wall_ns_ = std::max(rate_end_wall_ns_, std::min(obs.shift_peak_wall_ns, half->second));
    }
    if (!moved || !(z_in_direction > 0)) continue;
    if (obs.score >= config_.moved_score) {
      it->multivariate_driver = false;
      it->peak_score = std::max(it->peak_score, obs.score);
    }
    if (rose ? obs.pps > it->peak_pps : obs.pps < it->peak_pps) {
      it->peak_pps = obs.pps;
      it->peak_z = obs.z;
      it->peak_wall_ns = wall_ns;
    }
  }
  e.end_wall_ns = rate_end_wall_ns_ != 0 ? rate_end_wall_ns_ : active_end_wall_ns_;
  // Scores saturate near 1, so ties are common: the larger deviation then comes first.
  std::stable_sort(e.counters.begin(), e.counters.end(), [](const MovedCounter& a, const MovedCounter& b) {
    if (a.peak_score != b.peak_score) return a.peak_score > b.peak_score;
    return std::fabs(a.peak_z) > std::fabs(b.peak_z);
  });
  if (e.counters.size() > config_.max_counters) e.counters.resize(config_.max_counters);
}

EpisodeChange EpisodeTracker::observe(std::int64_t mono_ns, std::int64_t wall_ns, double score, bool eligible,
                                      std::uint8_t detectors, const std::vector<CounterObservation>& counters,
                                      const std::vector<std::string>& names, const EpisodeHealth& health,
                                      bool open_at_once) {
  const double dt_s = have_previous_ && mono_ns > previous_mono_ns_
                          ? static_cast<double>(ns_between(mono_ns, previous_mono_ns_)) * 1e-9
                          : 0.0;
  if (!have_previous_ || mono_ns > previous_mono_ns_) previous_mono_ns_ = mono_ns;
  have_previous_ = true;

  const bool high = eligible && score >= config_.open_score;
  const bool active = eligible && score >= config_.close_score;
  if (state_ == State::idle && !episode_.open) episode_ = Episode{};  // a closed one was reported

  switch (state_) {
    case State::idle:
      if (!high) return EpisodeChange::none;
      state_ = State::pending;
      run_ = 0;
      run_s_ = 0.0;
      pending_ = Episode{};
      pending_.start_wall_ns = wall_ns;
      pending_.end_wall_ns = wall_ns;
      rate_end_wall_ns_ = 0;
      active_end_wall_ns_ = 0;
      half_peak_end_.clear();
      [[fallthrough]];
    case State::pending:
      if (!active) {
        state_ = State::idle;
        return EpisodeChange::none;
      }
      run_s_ += dt_s;
      record(wall_ns, score, detectors, counters, names, health);
      backdate_start(wall_ns, counters);
      if (high) ++run_;
      if ((run_ < config_.open_samples && !(score >= config_.open_now_score) && !(open_at_once && high)) || run_s_ < config_.min_duration_s)
        return EpisodeChange::none;
      if (config_.unexplained_extra_samples > 0 && run_ < config_.open_samples + config_.unexplained_extra_samples &&
          lone_and_unexplained(pending_))
        return EpisodeChange::none;
      episode_ = std::move(pending_);
      episode_.id = next_id_++;
      episode_.open = true;
      state_ = State::open;
      run_ = 0;
      run_s_ = 0.0;
      return EpisodeChange::opened;
    case State::open: {
      // After a quiet sample, only a new burst (a score that could open an episode) merges: a
      // weak blip in the quiet stretch (one late probe, 25 s after the loss ended) is neither
      // the episode going on nor worth one of its own.
      if (active && (high || run_ == 0)) {
        run_ = 0;
        run_s_ = 0.0;
        const double previous_peak = episode_.peak_score;
        record(wall_ns, score, detectors, counters, names, health);
        return episode_.peak_score >= previous_peak + config_.peak_report_step ? EpisodeChange::peak_updated
                                                                               : EpisodeChange::none;
      }
      ++run_;
      run_s_ += dt_s;
      if (run_ < config_.close_samples || run_s_ < config_.merge_gap_s) return EpisodeChange::none;
      episode_.open = false;
      last_end_wall_ns_ = episode_.end_wall_ns;
      state_ = State::idle;
      return EpisodeChange::closed;
    }
  }
  return EpisodeChange::none;
}

void EpisodeTracker::backdate_start(std::int64_t wall_ns, const std::vector<CounterObservation>& counters) {
  const auto limit = static_cast<std::int64_t>(config_.max_backdate_s * 1e9);
  const std::int64_t earliest = std::max(wall_ns - limit, last_end_wall_ns_ + 1);
  for (const CounterObservation& obs : counters) {
    // A context counter is listed, never the fault: its run may be the end of an earlier one.
    if (obs.context || obs.shift_start_wall_ns <= 0 || !(obs.score >= config_.moved_score)) continue;
    pending_.start_wall_ns = std::min(pending_.start_wall_ns, std::max(obs.shift_start_wall_ns, earliest));
  }
}

void EpisodeTracker::adopt_start(std::int64_t start_wall_ns) {
  if (state_ == State::open) episode_.start_wall_ns = start_wall_ns;
}

void EpisodeTracker::forget_open() {
  if (state_ != State::open) return;
  state_ = State::idle;
  episode_ = Episode{};
  run_ = 0;
  run_s_ = 0.0;
}

void EpisodeTracker::save(ByteWriter& out) const {
  out.u8(static_cast<std::uint8_t>(state_));
  out.u32(run_);
  out.f64(run_s_);
  out.u64(next_id_);
  save_episode(out, episode_);
  save_episode(out, pending_);
  out.i64(rate_end_wall_ns_);
  out.i64(active_end_wall_ns_);
}

void EpisodeTracker::load(ByteReader& in) {
  const std::uint8_t state = in.u8();
  if (state > static_cast<std::uint8_t>(State::open)) in.fail();
  state_ = static_cast<State>(state);
  run_ = in.u32();
  run_s_ = in.f64();
  // The monotonic clock restarts with the machine, so it is not saved: the first sample after a
  // restore only sets the reference, and the downtime neither closes nor lengthens anything.
  have_previous_ = false;
  next_id_ = in.u64();
  load_episode(in, episode_);
  load_episode(in, pending_);
  rate_end_wall_ns_ = in.i64();
  active_end_wall_ns_ = in.i64();
}

}  // namespace ctmon

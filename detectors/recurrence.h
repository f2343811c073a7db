#pragma once
// "Seen on k of the last n days": what makes a nightly job stop alarming, while a one-off
// anomaly never becomes the expectation for its time slot.
//
// Per counter, the highest rate of every time-of-day slot (15 minutes) of each of the last
// n days, on a log scale in one byte. A rise is *familiar* when, on at least k of the previous
// days, the same slot or a neighbour (a job wanders by a few minutes from night to night) saw a
// rate at least as high, and not many times higher (a bigger anomaly at that hour is no vote for
// a smaller one). A backup that runs every night is familiar from its (k+1)-th night on;
// an anomaly seen once is not, so the same anomaly at the same hour tomorrow still alarms, and
// only a third time at that hour is it taken as a pattern.
//
// What is remembered is every level, not only rises: a job the time-of-day baseline has learned
// no longer rises, and must stay familiar. The price is that ordinary busy hours are remembered
// too, so a day of the other type (weekday or weekend) counts only where its peak stood out from
// its own surroundings (RecurrenceConfig::other_day_type_margin_steps), and by about as much as
// today's rise (other_day_type_min_excess_share): a small office's weekday lunchtime must not
// hide a storm at the same hour on a Saturday, when the office is empty.
//
// Why not the time-of-day baseline alone (seasonal_baseline.h): it learns a bin's *mean*, which
// a job that starts at 03:20 one night and 03:55 the next never pushes high enough in any bin,
// while a mean that did rise would also swallow a one-off anomaly within days. The maximum per
// day per slot is robust to both: one day's outlier is one vote of n.
//
// Days are local days (wall clock + offset), so this follows the router's clock; a day without
// samples is a day without votes. A clock that reads a day older than one already seen is wrong
// (a router without RTC boots at its build date until NTP answers) and records nothing: that
// day would take a real day's row and wipe its votes. While the daemon runs, a wall clock that
// steps back by more than a day is not believed at all (Analyzer::recurrence_time_of_day): the
// time the monotonic clock carries forward is asked about instead, so a nightly job that runs
// meanwhile is still recognised. Memory: n x slots_per_day bytes per counter.
//
// The caller asks about the rate it is judging (Analyzer::score_frame): a sample's own rate for
// a spike, the sustained rate (a minute's EWMA, what is recorded) for a shift the CUSUM sums up.
// What is recorded is the caller's choice (Analyzer::remember_rate): a rise is held aside with
// hold() and becomes a vote only once it has gone on for minutes (commit_held()); one that ends
// sooner is dropped. The anomalies of a few minutes that a busy router sees on other days would
// otherwise add up, within a window wide enough for a wandering job, to "seen on 2 days" and
// hide today's. The price: a job shorter than that keeps alarming every night.

#include <cstdint>
#include <vector>

#include "detectors/state_codec.h"

namespace ctmon {

struct RecurrenceConfig {
  std::uint32_t days = 7;         ///< n: days remembered
  std::uint32_t min_days = 2;     ///< k: previous days that must have seen as much
  double slot_width_s = 900.0;    ///< one vote per slot per day
  /// Slots either side that count as the same time: a job that starts anywhere in an hour from
  /// night to night is still the same job (two: 75 minutes in all, at 15-minute slots).
  std::uint32_t neighbours = 2;
  /// A rate up to this many steps of encode_rate() (4.4 % each) above a remembered peak still
  /// counts as seen: a job's rate differs a little from night to night.
  std::uint32_t margin_steps = 4;
  /// A remembered peak more than this many steps above today's rate (32: (rate + 1) four times
  /// over) is something else that happened at that hour, not the same thing again: a job runs at
  /// about the same rate night after night. Without the bound, a 46 pps scan one evening and a
  /// 5 pps one the evening before made a 5 pps scan at the same hour two days later familiar.
  std::uint32_t max_steps_above = 32;
  /// A previous day of the other day type (weekday or weekend) counts only where its peak stood
  /// out by this many steps (8: 41 %) above that day's own surroundings: the higher of the median
  /// peaks 1-2 hours before and 1-2 hours after (surroundings_from/to_slots; at most
  /// kMaxSurroundingSlots are read per side). A job stands out from the quiet hours around it on
  /// every day; an office's busy weekday hours do not, and must not make the same hour's storm
  /// on a Saturday familiar.
  std::uint32_t other_day_type_margin_steps = 8;
  std::uint32_t surroundings_from_slots = 4;
  std::uint32_t surroundings_to_slots = 8;
  /// A job adds its own load on top of whatever else runs, so a day of the other type also
  /// explains today's rise only if its peak rose above those surroundings by at least this
  /// share of today's rise above today's usual rate (in rates, not steps). A weekday's one-off
  /// lunchtime burst of 12 pps over a busy office stands out, yet cannot explain 26 pps over
  /// an empty office's 2 on a Sunday; a backup adds about as much on either day type.
  double other_day_type_min_excess_share = 0.5;
};

class RecurrenceMemory {
 public:
  static constexpr std::size_t kMaxSurroundingSlots = 16;

  explicit RecurrenceMemory(const RecurrenceConfig& config);

  /// True when `rate` was reached at this time of day on at least min_days of the previous
  /// days. `usual_rate` is what the caller expects at this time today without the rise (days
  /// of the other type must explain rate - usual_rate: other_day_type_min_excess_share). Call
  /// before observe() for the same sample.
  [[nodiscard]] bool familiar(std::int64_t local_s, double rate, double usual_rate) const;

  /// Records `rate` seen at local time `local_s`.
  void observe(std::int64_t local_s, double rate);

  /// Keeps `rate` seen at `local_s` aside, until commit_held() records what was kept (in the
  /// order seen) or drop_held() forgets it. For a rise whose length is not known yet: a
  /// one-off burst must not become a vote, a job that goes on must. Later local times only.
  void hold(std::int64_t local_s, double rate);
  void commit_held();
  void drop_held() { held_.clear(); }

  void save(ByteWriter& out) const;
  void load(ByteReader& in);

 private:
  [[nodiscard]] std::size_t row_of(std::int64_t day) const { return static_cast<std::size_t>(day % config_.days); }
  [[nodiscard]] std::uint32_t slot_of(std::int64_t local_s, std::int64_t day) const;
  [[nodiscard]] std::int64_t newest_day() const;
  /// Whether `slot` of one day's row can stand for a day of the other type: it stood out from
  /// that day's surroundings (other_day_type_margin_steps), by at least `min_excess` in rate.
  [[nodiscard]] bool stands_out(const std::uint8_t* day_row, std::int64_t slot, double min_excess) const;

  RecurrenceConfig config_;
  std::uint32_t slots_per_day_;
  std::vector<std::int64_t> day_of_row_;  // which local day each row holds; -1: none
  std::vector<std::uint8_t> highest_;     // row * slots_per_day + slot: encoded highest rate
  // The cell observe() writes until local time leaves [cell_start_s_, cell_end_s_), and the
  // highest rate it saw there (a rate not above it cannot raise the cell).
  std::size_t cell_ = 0;  // index into highest_
  std::int64_t cell_start_s_ = 0;
  std::int64_t cell_end_s_ = 0;
  double cell_peak_ = -1.0;
  struct HeldPeak {
    std::int64_t cell_key;  // local day * slots_per_day_ + slot
    std::int64_t local_s;
    double rate;
  };
  std::vector<HeldPeak> held_;  // one per slot the held stretch crossed
};

/// The one-byte log scale of rates used by RecurrenceMemory: 0 for no traffic, then steps of
/// about 4.4 % (1/16 of a doubling), saturating at 255 (about 60,000 pps). Exposed for tests.
[[nodiscard]] std::uint8_t encode_rate(double rate);
/// The rate an encoded step stands for (the inverse of encode_rate, up to its rounding).
[[nodiscard]] double decode_rate(std::uint8_t step);

}  // namespace ctmon

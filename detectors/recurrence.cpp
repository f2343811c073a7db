#include "detectors/recurrence.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/time.h"
#include "detectors/seasonal_baseline.h"

namespace ctmon {

std::uint8_t encode_rate(double rate) {
  if (!(rate > 0)) return 0;
  const double steps = std::round(16.0 * std::log2(1.0 + rate));
  return static_cast<std::uint8_t>(std::clamp(steps, 0.0, 255.0));
}

double decode_rate(std::uint8_t step) { return std::exp2(static_cast<double>(step) / 16.0) - 1.0; }

RecurrenceMemory::RecurrenceMemory(const RecurrenceConfig& config)
    : config_(config),
      slots_per_day_(static_cast<std::uint32_t>(std::ceil(kSecondsPerDay / config.slot_width_s))),
      day_of_row_(config.days, -1),
      highest_(static_cast<std::size_t>(config.days) * slots_per_day_, 0) {}

std::uint32_t RecurrenceMemory::slot_of(std::int64_t local_s, std::int64_t day) const {
  const auto slot = static_cast<std::uint32_t>(static_cast<double>(local_s - day * kSecondsPerDay) / config_.slot_width_s);
  return std::min(slot, slots_per_day_ - 1);
}

std::int64_t RecurrenceMemory::newest_day() const { return *std::max_element(day_of_row_.begin(), day_of_row_.end()); }

bool RecurrenceMemory::familiar(std::int64_t local_s, double rate, double usual_rate) const {
  const std::int64_t today = floor_div(local_s, kSecondsPerDay);
  const std::uint32_t slot = slot_of(local_s, today);
  const std::uint8_t encoded = encode_rate(rate);
  const std::uint8_t level = encoded > config_.margin_steps ? static_cast<std::uint8_t>(encoded - config_.margin_steps) : 0;
  const int ceiling = encoded + static_cast<int>(config_.max_steps_above);
  const double other_type_min_excess = config_.other_day_type_min_excess_share * std::max(0.0, rate - usual_rate);
  std::uint32_t days_seen = 0;
  for (std::uint32_t back = 1; back < config_.days; ++back) {
    const std::int64_t day = today - back;
    const std::size_t row = row_of(day);
    if (day_of_row_[row] != day) continue;
    const std::uint8_t* highest = &highest_[row * slots_per_day_];
    const bool other_day_type = is_weekend(day) != is_weekend(today);
    const std::int64_t n = config_.neighbours;
    for (std::int64_t s = static_cast<std::int64_t>(slot) - n; s <= static_cast<std::int64_t>(slot) + n; ++s) {
      // Neighbours stay within the day: a job just after midnight is yesterday's row for the
      // slot just before it, and one row's wrap would compare different nights.
      if (s < 0 || s >= static_cast<std::int64_t>(slots_per_day_)) continue;
      if (highest[s] >= level && highest[s] <= ceiling && (!other_day_type || stands_out(highest, s, other_type_min_excess))) {
        ++days_seen;
        break;
      }
    }
    if (days_seen >= config_.min_days) return true;
  }
  return false;
}

bool RecurrenceMemory::stands_out(const std::uint8_t* day_row, std::int64_t slot, double min_excess) const {
  // Each side's surroundings is the median of its slots: one busy slot there (another job) does
  // not hide a job, and one quiet slot (a lull in a busy day) does not make a busy hour stand
  // out. A side beyond midnight is left out (the row is one day).
  const auto slots = static_cast<std::int64_t>(slots_per_day_);
  auto side_median = [&](std::int64_t direction) {
    std::array<std::uint8_t, kMaxSurroundingSlots> seen{};
    std::size_t n = 0;
    for (std::int64_t d = config_.surroundings_from_slots; d <= config_.surroundings_to_slots && n < seen.size(); ++d) {
      const std::int64_t s = slot + direction * d;
      if (s >= 0 && s < slots) seen[n++] = day_row[s];
    }
    if (n == 0) return 0;
    std::nth_element(seen.begin(), seen.begin() + n / 2, seen.begin() + n);
    return static_cast<int>(seen[n / 2]);
  };
  const int surroundings = std::max(side_median(-1), side_median(+1));
  return day_row[slot] >= surroundings + static_cast<int>(config_.other_day_type_margin_steps) &&
         decode_rate(day_row[slot]) - decode_rate(static_cast<std::uint8_t>(surroundings)) >= min_excess;
}

void RecurrenceMemory::observe(std::int64_t local_s, double rate) {
  // Per sample only a comparison: the cell and its peak are looked up again when the slot ends,
  // and the logarithm is taken only for a new peak.
  if (local_s < cell_start_s_ || local_s >= cell_end_s_) {
    const std::int64_t day = floor_div(local_s, kSecondsPerDay);
    if (day < newest_day()) return;  // a wrong clock (see the header)
    const std::size_t row = row_of(day);
    std::uint8_t* highest = &highest_[row * slots_per_day_];
    if (day_of_row_[row] != day) {  // a new day takes the row of the day n days ago
      std::fill(highest, highest + slots_per_day_, 0);
      day_of_row_[row] = day;
    }
    const std::uint32_t slot = slot_of(local_s, day);
    cell_ = row * slots_per_day_ + slot;
    cell_start_s_ = day * kSecondsPerDay + static_cast<std::int64_t>(std::ceil(slot * config_.slot_width_s));
    cell_end_s_ = slot + 1 == slots_per_day_ ? (day + 1) * kSecondsPerDay
                                            : day * kSecondsPerDay + static_cast<std::int64_t>(std::ceil((slot + 1) * config_.slot_width_s));
    cell_peak_ = -1.0;
  }
  if (!(rate > cell_peak_)) return;
  cell_peak_ = rate;
  highest_[cell_] = std::max(highest_[cell_], encode_rate(rate));
}

void RecurrenceMemory::hold(std::int64_t local_s, double rate) {
  const std::int64_t day = floor_div(local_s, kSecondsPerDay);
  const std::int64_t key = day * slots_per_day_ + slot_of(local_s, day);
  if (held_.empty() || held_.back().cell_key != key) {
    // A stretch held for longer than a day is not a burst: record what it held so far.
    if (held_.size() >= slots_per_day_) commit_held();
    held_.push_back({key, local_s, rate});
  } else {
    held_.back().rate = std::max(held_.back().rate, rate);
  }
}

void RecurrenceMemory::commit_held() {
  for (const HeldPeak& peak : held_) observe(peak.local_s, peak.rate);
  held_.clear();
}

void RecurrenceMemory::save(ByteWriter& out) const {
  out.u32(config_.days);
  out.u32(slots_per_day_);
  for (const std::int64_t day : day_of_row_) out.u64(static_cast<std::uint64_t>(day));
  for (const std::uint8_t level : highest_) out.u8(level);
}

void RecurrenceMemory::load(ByteReader& in) {
  if (in.u32() != config_.days || in.u32() != slots_per_day_) {
    in.fail();
    return;
  }
  for (std::int64_t& day : day_of_row_) day = static_cast<std::int64_t>(in.u64());
  for (std::uint8_t& level : highest_) level = in.u8();
  cell_start_s_ = cell_end_s_ = 0;  // look the cell up again at the next observe()
}

}  // namespace ctmon

#pragma once
// The one record that flows through ctmon: every counter's cumulative totals at one instant.
// Sources (netlink, replay CSV) produce it; rates, detectors, the store and the sender consume it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctmon {

/// Position of a counter in a CounterCatalog. Stable for the life of the catalog.
using CounterId = std::uint32_t;

/// Cumulative totals of one counter. `present` is false when the counter was not in this reading
/// (not created yet, or its table was deleted): the totals are then meaningless, not zero.
struct CounterTotals {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool present = false;

  friend bool operator==(const CounterTotals&, const CounterTotals&) = default;
};

/// One reading of every counter. `counters` is indexed by CounterId; it may be shorter than the
/// catalog when counters were added after this sample was taken (those are absent).
struct Sample {
  std::int64_t mono_ns = 0;  ///< monotonic clock: only differences between samples mean anything
  std::int64_t wall_ns = 0;  ///< UTC wall clock, nanoseconds since the epoch; may jump
  std::vector<CounterTotals> counters;

  friend bool operator==(const Sample&, const Sample&) = default;
};

/// The names of the counters seen so far, append-only: a name keeps its id once given.
/// Sources intern names here; everything downstream indexes by id.
class CounterCatalog {
 public:
  /// Returns the id of `name`, giving it the next free id when it is new.
  CounterId intern(std::string_view name);
  /// Returns the id of `name`, or `size()` when the catalog does not know it.
  [[nodiscard]] CounterId find(std::string_view name) const;
  /// Name of a known id; undefined for id >= size().
  [[nodiscard]] const std::string& name(CounterId id) const { return names_[id]; }
  [[nodiscard]] std::size_t size() const { return names_.size(); }
  [[nodiscard]] const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;  // few dozen at most: a linear scan beats a hash map here
};

/// What a counter name says about the traffic it counts, following the rules' naming scheme
/// `<proto>_conntrack_<hook>_<state>` (e.g. tcp_conntrack_fwd_invalid).
struct CounterName {
  std::string proto;  ///< "tcp", "udp", ...
  std::string hook;   ///< "input", "output", "fwd"
  std::string state;  ///< "new", "established", "invalid", ...
  bool conforms = false;  ///< false when the name does not follow the scheme (fields then empty)
};

/// Splits a counter name into its parts; names outside the scheme yield `conforms == false`.
[[nodiscard]] CounterName parse_counter_name(std::string_view name);

}  // namespace ctmon

#pragma once
// An episode: a stretch of time in which the counters did something a person should look at,
// with the evidence for it. Produced by detectors/ (EpisodeTracker, classify_episode), stored,
// forwarded and printed by monitor/; its names here are the ones the events contract uses
// (docs/events.md), so every output spells them the same way.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sample.h"

namespace ctmon {

/// Best guess at the cause, from which counters moved and which way (detectors/classify.h).
enum class EpisodeKind : std::uint8_t { unknown, wan_drop, invalid_burst, scan, udp_storm, conntrack_full };

/// "wan_drop", "invalid_burst", ... as in the events contract.
[[nodiscard]] std::string_view to_string(EpisodeKind kind);

/// Which detector supplied evidence at the alarm level; a bit set per sample and per episode
/// (how each one scores is in detectors/fusion.h).
enum DetectorBit : std::uint8_t {
  kDetectorPoint = 1U << 0,         ///< level (EWMA) and robust (median/MAD) baselines agree
  kDetectorCusum = 1U << 1,         ///< sustained shift
  kDetectorMultivariate = 1U << 2,  ///< counters moving against their usual correlation
  kDetectorSeasonal = 1U << 3,      ///< the expectation came from a learned time-of-day bin
};

/// The name of one detector bit ("point", "cusum", "multivariate", "seasonal"); "unknown" for a
/// value that is not a single known bit.
[[nodiscard]] std::string_view detector_name(DetectorBit bit);

/// The names of the bits set in `bits`, in bit order (point, cusum, multivariate, seasonal);
/// bits that name no detector are left out. The views point to static strings.
[[nodiscard]] std::vector<std::string_view> detector_names(std::uint8_t bits);

/// One counter that moved during an episode, at its most extreme sample.
struct MovedCounter {
  CounterId id = 0;
  std::string name;
  double peak_pps = 0.0;      ///< rate at its most anomalous sample (a trough when it fell)
  double baseline_pps = 0.0;  ///< what was expected at that sample
  double peak_score = 0.0;    ///< that counter's score there, [0, 1]
  double peak_z = 0.0;        ///< its signed z there: negative when the counter fell
  std::int64_t peak_wall_ns = 0;

  friend bool operator==(const MovedCounter&, const MovedCounter&) = default;
};

struct Episode {
  std::uint64_t id = 0;              ///< 1, 2, ... per Analyzer (survives save/restore)
  std::int64_t start_wall_ns = 0;    ///< first sample of the run that opened it
  std::int64_t end_wall_ns = 0;      ///< last sample above the lower threshold; meaningful once closed
  bool open = true;
  double peak_score = 0.0;           ///< overall score at its peak, [0, 1]
  std::int64_t peak_wall_ns = 0;
  std::uint8_t detectors = 0;        ///< DetectorBit set over the episode (fusion.h)
  EpisodeKind kind = EpisodeKind::unknown;
  std::string summary;               ///< one sentence stating the evidence
  std::vector<MovedCounter> counters;  ///< strongest first

  friend bool operator==(const Episode&, const Episode&) = default;
};

}  // namespace ctmon

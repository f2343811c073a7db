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

/// Where the trouble is, from explicit rules on the evidence (detectors/classify.h): the ISP's
/// side (WAN probes disturbed, LAN calm), the router itself (both sides disturbed, the conntrack
/// table full or dropping), a device on the LAN (one direction of forwarded traffic explodes while
/// the probes are calm), or unknown when no rule applies.
enum class Where : std::uint8_t { unknown, isp, router, lan_device };

/// "unknown", "isp", "router", "lan_device" as in the events contract.
[[nodiscard]] std::string_view to_string(Where where);

/// Below this usual rate a ratio says nothing: at 1 s sampling, a usual 0.2 pps means most
/// seconds see no packet at all, and "180 / 0.01 = 18000x" is an artefact of the estimate. Such
/// changes are written "from about 0 to 180 pps". One rule for every output (summary, tables).
inline constexpr double kRatioMinUsualPps = 1.0;

/// True when peak/usual is worth printing as a ratio (see kRatioMinUsualPps).
[[nodiscard]] inline bool ratio_is_meaningful(double usual_pps) { return usual_pps >= kRatioMinUsualPps; }

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

/// One counter that moved during an episode.
///
/// A mean counter (core/measurement.h: probe RTT, jitter, loss, conntrack entries) carries its
/// value, not a rate, in peak_pps and baseline_pps; its unit is measure_unit(name).
///
/// The peak is the most extreme RATE in the direction the counter moved (the highest for a rise,
/// the lowest for a fall) among the samples in which it was anomalous on its own, not the rate
/// of its highest-score sample: scores saturate near 1, so "highest score" picks an arbitrary
/// sample (often the last, partial second of a burst), while the rate is what `ctmon series`
/// shows and what a person checks. The usual rate is the expectation at the first sample in
/// which the counter moved: the models learn after scoring and winsorise what they learn, so it
/// is the baseline from before the episode; later expectations drift towards the burst.
struct MovedCounter {
  CounterId id = 0;
  std::string name;
  double peak_pps = 0.0;      ///< most extreme rate in its direction (a trough when it fell)
  double baseline_pps = 0.0;  ///< the usual rate: expected when it first moved
  double peak_score = 0.0;    ///< its highest score during the episode, [0, 1]
  double peak_z = 0.0;        ///< its signed z at the peak rate: negative when the counter fell
  std::int64_t peak_wall_ns = 0;  ///< the sample of the peak rate
  /// The sample in which it first moved: what moved first is the cause, what moved later its
  /// consequences (an outage's reconnect storm), which is how classify_episode reads it. 0 when
  /// unknown (an episode read back from the events table).
  std::int64_t first_wall_ns = 0;
  /// Listed for its share of an unusual multivariate pattern: its own score stayed below the
  /// level at which a counter counts as moved.
  bool multivariate_driver = false;

  friend bool operator==(const MovedCounter&, const MovedCounter&) = default;
};

/// What the measurements beside the counters (docs/measurements.md) showed over an episode's
/// samples, independent of which counters made the list in `counters` (it is capped): `where` and
/// the measured `conntrack_full` rest on these (detectors/classify.h).
struct EpisodeHealth {
  bool wan_probed = false;  ///< some WAN probe metric had a value in a sample of the episode
  bool lan_probed = false;  ///< the same for the LAN side
  bool wan_up = false;      ///< a WAN probe's RTT median, jitter or loss moved up
  bool lan_up = false;      ///< the same for the LAN side
  bool conntrack_read = false;  ///< conntrack health counters (fill or drop statistics) were read
  bool drops_up = false;    ///< conntrack_stat drop, early_drop or insert_failed moved up
  /// The fullest the conntrack table was (highest entries / limit) and its limit then; limit 0
  /// when the fill was never known.
  double fill_entries = 0.0;
  double fill_limit = 0.0;

  /// entries / limit at the fullest sample, 0 when unknown.
  [[nodiscard]] double fill() const { return fill_limit > 0 ? fill_entries / fill_limit : 0.0; }

  friend bool operator==(const EpisodeHealth&, const EpisodeHealth&) = default;
};

struct Episode {
  std::uint64_t id = 0;              ///< 1, 2, ... per Analyzer (survives save/restore)
  /// First sample of the run that opened it, or a moved counter's CUSUM change point before it
  /// (episode_tracker.h).
  std::int64_t start_wall_ns = 0;
  /// Last sample in which a counter that moved was still anomalous in its own rate (|z| beyond
  /// EpisodeConfig::still_anomalous_z in the direction it moved) or its CUSUM peaked (bounded by
  /// its last sample half as far out as its peak, episode_tracker.h); the last
  /// sample above the lower threshold when no counter says (a multivariate-only episode).
  /// Meaningful once closed.
  std::int64_t end_wall_ns = 0;
  bool open = true;
  double peak_score = 0.0;           ///< overall score at its peak, [0, 1]
  std::int64_t peak_wall_ns = 0;
  std::uint8_t detectors = 0;        ///< DetectorBit set over the episode (fusion.h)
  EpisodeKind kind = EpisodeKind::unknown;
  Where where = Where::unknown;
  EpisodeHealth health;
  std::string summary;               ///< one sentence stating the evidence
  std::vector<MovedCounter> counters;  ///< strongest first

  friend bool operator==(const Episode&, const Episode&) = default;
};

}  // namespace ctmon

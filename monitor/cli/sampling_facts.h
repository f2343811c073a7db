#pragma once
// What a reader can tell about how the samples in a database were taken: the interval and the
// first sample. For the "No episodes ... (sampling every 5 s since ...)" answer of `ctmon events`
// and for `ctmon status`.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "monitor/status/daemon_status.h"
#include "monitor/store/database.h"

namespace ctmon::cli {

struct SamplingFacts {
  /// Seconds between samples: the live daemon's configured interval when `status` is given,
  /// else the median step of the newest stored samples; nullopt with fewer than two samples.
  std::optional<double> interval_s;
  /// The first sample ever written to this file (meta 'first_sample_wall_ns'), else the oldest
  /// stored one.
  std::optional<std::int64_t> first_sample_wall_ns;
  /// The newest sample committed to the file (the daemon keeps up to a commit interval in RAM).
  std::optional<std::int64_t> newest_stored_wall_ns;
};

/// Gathers the facts from `db`, and from the live daemon's `status` when it is given.
/// Throws store::SqliteError on database errors.
[[nodiscard]] SamplingFacts sampling_facts(store::Database& db,
                                           const std::optional<status::DaemonStatus>& status);

/// `status` when it describes a daemon writing `db_path` (the same file), nullopt otherwise: a
/// daemon writing another database says nothing about this one.
[[nodiscard]] std::optional<status::DaemonStatus> status_for_db(const std::optional<status::DaemonStatus>& status,
                                                                const std::filesystem::path& db_path);

/// "5 s", "0.5 s", "2 min": an interval for a sentence.
[[nodiscard]] std::string format_interval(double seconds);

}  // namespace ctmon::cli

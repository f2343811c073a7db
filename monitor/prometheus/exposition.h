#pragma once
// The text that `GET /metrics` answers: Prometheus' text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure functions of what the
// daemon already knows (its typed status, the last sample), so they are tested without a socket.
//
// Names follow Prometheus' conventions: the `ctmon_` prefix, base units in the name (seconds,
// bytes), `_total` on counters, and one HELP and one TYPE line per metric family. Label values
// that come from the user or the kernel (the table's name, counter names) are escaped.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/episode.h"
#include "core/sample.h"
#include "monitor/status/daemon_status.h"

namespace ctmon::prometheus {

/// The MIME type of what render_metrics() returns.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// One counter's cumulative totals at the last sample, by name.
struct CounterValue {
  std::string name;
  CounterTotals totals;
};

/// EpisodeKind's values are 0 .. conntrack_full, the last one.
inline constexpr std::size_t kEpisodeKindCount = static_cast<std::size_t>(EpisodeKind::conntrack_full) + 1;

/// Episodes opened since the daemon started, by their kind when they opened.
using EpisodeCounts = std::array<std::uint64_t, kEpisodeKindCount>;

/// Everything a scrape shows.
struct Snapshot {
  const status::DaemonStatus& status;
  const std::vector<CounterValue>& counters;  ///< the last sample's counters that were present
  const EpisodeCounts& episodes;
  std::string_view version;                   ///< ctmon's, for ctmon_build_info
};

/// `value` escaped for a label value between double quotes: backslash, double quote and line
/// feed become \\, \" and \n; everything else (UTF-8 included) is kept.
[[nodiscard]] std::string escape_label_value(std::string_view value);

/// `value` as the format writes a sample value: integers exactly (up to 2^53), others with
/// enough digits to read back the same double; NaN and infinities as NaN, +Inf, -Inf.
[[nodiscard]] std::string format_value(double value);

/// The whole exposition for one scrape, ending with a line feed.
[[nodiscard]] std::string render_metrics(const Snapshot& snapshot);

}  // namespace ctmon::prometheus

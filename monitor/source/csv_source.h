#pragma once
// Readers of the two CSV layouts `ctmon replay` accepts (docs/formats.md):
//
//   CsvSource        the replay CSV: header `timestamp,<counter>,...`; timestamp in unix seconds
//                    (integer or decimal); values are cumulative packet counts; an empty field
//                    means the counter was absent from that reading. A mean counter's column
//                    (a probe, the conntrack table: docs/measurements.md) holds the row's value
//                    instead (µs, a 0..1 fraction, entries; empty: no observation), which the
//                    reader accumulates as count += kMeanCsvScale, sum += value x kMeanCsvScale,
//                    so that the value read back is the value written, to three decimals. A CounterSource, so replay
//                    and tests feed the same pipeline as the netlink reader.
//   GaugeCsvReader   a NAB-style single series: header `timestamp,value`, timestamps
//                    `YYYY-MM-DD HH:MM:SS` (taken as UTC), values already rates or gauges.
//
// Both read line by line (a year of samples never sits in memory) and report a malformed file
// with one UserError line: `<file>:<line>: column <n> (<name>): expected <what>, got '<text>'`,
// where <text> and <name> are at most 40 bytes of the input, escaped (monitor/input_excerpt.h):
// a 10 MB field or a control character cannot flood or break the line.
// Timestamps give both clocks: mono_ns = wall_ns (a recording has only one clock).

#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "core/measurement.h"
#include "monitor/source/counter_source.h"

namespace ctmon {

/// A mean counter's value per replay-CSV row counts as this many observations, so three decimals
/// of it survive the integer totals (a loss of 0.333, a jitter of 812.5 µs).
inline constexpr std::uint64_t kMeanCsvScale = 1000;

class CsvSource : public CounterSource {
 public:
  /// Opens `path` and reads its header. Throws UserError when the file cannot be opened or the
  /// header is not `timestamp,<counter>,...` with distinct, non-empty names.
  explicit CsvSource(const std::string& path);
  /// Reads from `in`, which the caller keeps alive; `display_name` appears in error messages.
  CsvSource(std::istream& in, std::string display_name);

  /// See CounterSource::next. Throws UserError on a malformed row.
  bool next(Sample& out, CounterCatalog& catalog) override;

  /// From now on a row whose timestamp is not after the previous row's is a UserError naming
  /// its line (for `replay --db`: the database stores samples in time order and would drop
  /// them). Without it such rows are returned, and the detectors skip the step.
  void require_advancing_time() { require_advancing_time_ = true; }

  /// Counter names from the header, in column order.
  [[nodiscard]] const std::vector<std::string>& counter_names() const { return names_; }
  /// Bytes consumed so far (for a progress bar).
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  void read_header();
  [[noreturn]] void fail(std::size_t column, const std::string& what, const std::string& got) const;

  std::unique_ptr<std::ifstream> file_;  // set when we opened the file ourselves
  std::istream* in_;
  std::string display_name_;
  std::vector<std::string> names_;
  std::vector<CounterId> ids_;
  std::vector<MeasureUnit> mean_unit_;        // per column: the unit of a mean counter's value
  std::vector<std::uint8_t> mean_;            // per column: 1 for a mean counter
  std::vector<CounterTotals> mean_totals_;    // per column: a mean counter's accumulated totals
  std::string line_;
  std::vector<std::string_view> fields_;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
  bool require_advancing_time_ = false;
  bool have_previous_time_ = false;
  std::int64_t previous_ns_ = 0;
  std::string previous_time_text_;
};

/// One row of a gauge series.
struct GaugeRow {
  std::string timestamp;  ///< as written in the file (output must repeat it row for row)
  std::int64_t unix_s = 0;
  std::string value_text; ///< as written
  double value = 0.0;
};

class GaugeCsvReader {
 public:
  /// Opens `path` and checks the header `timestamp,value`; throws UserError otherwise.
  explicit GaugeCsvReader(const std::string& path);
  GaugeCsvReader(std::istream& in, std::string display_name);

  /// Reads the next row into `out`; false at the end. Throws UserError on a malformed row.
  bool next(GaugeRow& out);
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  void read_header();
  [[noreturn]] void fail(std::size_t column, const std::string& what, const std::string& got) const;

  std::unique_ptr<std::ifstream> file_;
  std::istream* in_;
  std::string display_name_;
  std::string line_;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
};

/// Parses `YYYY-MM-DD HH:MM:SS` (or with a 'T') as UTC; false when it is not one.
bool parse_utc_datetime(std::string_view text, std::int64_t& unix_s);

/// Parses unix seconds, integer or decimal ("1717372800", "1717372800.250") into nanoseconds;
/// false when it is not one.
bool parse_unix_seconds(std::string_view text, std::int64_t& ns);

}  // namespace ctmon

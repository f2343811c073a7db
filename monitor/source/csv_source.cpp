#include "monitor/source/csv_source.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "core/time.h"
#include "monitor/input_excerpt.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {


bool getline_counted(std::istream& in, std::string& line, std::uint64_t& line_number, std::uint64_t& bytes) {
  if (!std::getline(in, line)) return false;
  ++line_number;
  bytes += line.size() + 1;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::ifstream* open_or_throw(const std::string& path, std::unique_ptr<std::ifstream>& holder) {
  holder = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*holder) throw UserError("cannot open '" + path + "': check the path and that it is readable");
  return holder.get();
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

}  // namespace

bool parse_unix_seconds(std::string_view text, std::int64_t& ns) {
  text = trim(text);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size() || whole.empty() || whole.front() == '-') return false;
  if (seconds > 9'000'000'000LL) return false;  // would overflow nanoseconds
  std::int64_t fraction_ns = 0;
  if (dot != std::string_view::npos) {
    const std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return false;
    std::int64_t scale = kNsPerS / 10;
    for (char c : frac) {
      if (c < '0' || c > '9') return false;
      fraction_ns += (c - '0') * scale;
      scale /= 10;
    }
  }
  ns = seconds * kNsPerS + fraction_ns;
  return true;
}

bool parse_utc_datetime(std::string_view text, std::int64_t& unix_s) {
  text = trim(text);
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || !digits(text, 0, 4, y) || text[4] != '-' || !digits(text, 5, 2, mo) || text[7] != '-' ||
      !digits(text, 8, 2, d) || (text[10] != ' ' && text[10] != 'T') || !digits(text, 11, 2, h) || text[13] != ':' ||
      !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  // Fractional seconds are allowed and ignored (NAB rows are whole seconds).
  if (text.size() > 19 && text[19] != '.') return false;
  unix_s = days_from_civil(CivilDate{y, mo, d}) * kSecondsPerDay + h * 3600 + mi * 60 + s;
  return true;
}

CsvSource::CsvSource(const std::string& path) : in_(open_or_throw(path, file_)), display_name_(path) { read_header(); }

CsvSource::CsvSource(std::istream& in, std::string display_name) : in_(&in), display_name_(std::move(display_name)) {
  read_header();
}

void CsvSource::fail(std::size_t column, const std::string& what, const std::string& got) const {
  std::string where = display_name_ + ":" + std::to_string(line_number_) + ": column " + std::to_string(column + 1);
  if (column > 0 && column - 1 < names_.size()) where += " (" + input_excerpt(names_[column - 1]) + ")";
  else if (column == 0) where += " (timestamp)";
  throw UserError(where + ": expected " + what + ", got '" + input_excerpt(got) + "'");
}

void CsvSource::read_header() {
  if (!getline_counted(*in_, line_, line_number_, bytes_read_)) {
    throw UserError(display_name_ + ": the file is empty; a replay CSV starts with the header timestamp,<counter>,...");
  }
  split(line_, fields_);
  if (trim(fields_[0]) != "timestamp") fail(0, "the header 'timestamp,<counter>,...'", std::string(fields_[0]));
  if (fields_.size() < 2) fail(1, "at least one counter name after 'timestamp'", "");
  // Hashed, so a header of 70,000 columns costs milliseconds, not the seconds of comparing
  // every name with every other. The views point into line_, which stays put meanwhile.
  std::unordered_set<std::string_view> seen;
  seen.reserve(fields_.size());
  names_.reserve(fields_.size() - 1);
  for (std::size_t i = 1; i < fields_.size(); ++i) {
    const std::string_view name = trim(fields_[i]);
    if (name.empty() || !seen.insert(name).second) {
      fail(i, "a distinct, non-empty counter name", std::string(name));
    }
    names_.emplace_back(name);
    const bool mean = counter_meaning(name) == CounterMeaning::mean;
    mean_.push_back(mean ? 1 : 0);
    mean_unit_.push_back(measure_unit(name));
  }
  mean_totals_.assign(names_.size(), CounterTotals{});
}

bool CsvSource::next(Sample& out, CounterCatalog& catalog) {
  do {
    if (!getline_counted(*in_, line_, line_number_, bytes_read_)) return false;
  } while (trim(line_).empty());
  if (ids_.size() != names_.size()) {
    ids_.clear();
    for (const auto& n : names_) ids_.push_back(catalog.intern(n));
  }
  split(line_, fields_);
  if (fields_.size() != names_.size() + 1) {
    // Point at the first missing or first extra column.
    fail(std::min(fields_.size(), names_.size() + 1), std::to_string(names_.size() + 1) + " comma-separated fields like the header", std::to_string(fields_.size()) + " fields");
  }
  std::int64_t ns = 0;
  if (!parse_unix_seconds(fields_[0], ns)) fail(0, "unix seconds (integer or decimal)", std::string(fields_[0]));
  if (require_advancing_time_) {
    if (have_previous_time_ && ns <= previous_ns_)
      fail(0, "a time after the previous row's " + previous_time_text_ +
                  " (rows in time order; sort the file with 'sort -t, -k1,1n', or replay it without --db)",
           std::string(trim(fields_[0])));
    have_previous_time_ = true;
    previous_ns_ = ns;
    previous_time_text_ = input_excerpt(trim(fields_[0]));
  }
  out.mono_ns = ns;
  out.wall_ns = ns;
  out.counters.assign(catalog.size(), CounterTotals{});
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string_view f = trim(fields_[i + 1]);
    if (mean_[i] != 0) {
      // No value: no observation in this row, but the counter goes on (its totals unchanged),
      // as a probe whose every reply was lost.
      CounterTotals& totals = mean_totals_[i];
      if (!f.empty()) {
        double v = 0;
        const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
        const bool fraction = mean_unit_[i] == MeasureUnit::fraction;
        if (ec != std::errc() || end != f.data() + f.size() || !std::isfinite(v) || v < 0 || (fraction && v > 1))
          fail(i + 1, fraction ? "a fraction from 0 to 1 (this column is a mean counter's value) or nothing"
                               : "a non-negative number (this column is a mean counter's value) or nothing",
               std::string(f));
        totals.packets += kMeanCsvScale;
        totals.bytes += static_cast<std::uint64_t>(std::llround(v * static_cast<double>(kMeanCsvScale)));
        totals.present = true;
      }
      if (totals.present) out.counters[ids_[i]] = totals;
      continue;
    }
    if (f.empty()) continue;  // absent from this reading
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (ec != std::errc() || end != f.data() + f.size()) {
      fail(i + 1, "a cumulative packet count (a non-negative integer) or nothing", std::string(f));
    }
    out.counters[ids_[i]] = CounterTotals{v, 0, true};
  }
  return true;
}

GaugeCsvReader::GaugeCsvReader(const std::string& path) : in_(open_or_throw(path, file_)), display_name_(path) {
  read_header();
}

GaugeCsvReader::GaugeCsvReader(std::istream& in, std::string display_name)
    : in_(&in), display_name_(std::move(display_name)) {
  read_header();
}

void GaugeCsvReader::fail(std::size_t column, const std::string& what, const std::string& got) const {
  static constexpr const char* kNames[] = {"timestamp", "value"};
  throw UserError(display_name_ + ":" + std::to_string(line_number_) + ": column " + std::to_string(column + 1) +
                  (column < 2 ? std::string(" (") + kNames[column] + ")" : std::string()) + ": expected " + what +
                  ", got '" + input_excerpt(got) + "'");
}

void GaugeCsvReader::read_header() {
  if (!getline_counted(*in_, line_, line_number_, bytes_read_)) {
    throw UserError(display_name_ + ": the file is empty; a NAB series starts with the header timestamp,value");
  }
  std::vector<std::string_view> f;
  split(line_, f);
  if (f.size() != 2 || trim(f[0]) != "timestamp" || trim(f[1]) != "value") {
    fail(0, "the header 'timestamp,value'", line_);
  }
}

bool GaugeCsvReader::next(GaugeRow& out) {
  do {
    if (!getline_counted(*in_, line_, line_number_, bytes_read_)) return false;
  } while (trim(line_).empty());
  std::vector<std::string_view> f;
  split(line_, f);
  if (f.size() != 2) fail(f.size() < 2 ? 1 : 2, "2 fields 'timestamp,value'", std::to_string(f.size()) + " fields");
  out.timestamp = std::string(trim(f[0]));
  if (!parse_utc_datetime(out.timestamp, out.unix_s)) fail(0, "a time like 2014-04-01 00:00:00", out.timestamp);
  out.value_text = std::string(trim(f[1]));
  const auto [end, ec] = std::from_chars(out.value_text.data(), out.value_text.data() + out.value_text.size(), out.value);
  if (ec != std::errc() || end != out.value_text.data() + out.value_text.size() || !std::isfinite(out.value)) {
    fail(1, "a number", out.value_text);
  }
  return true;
}

}  // namespace ctmon

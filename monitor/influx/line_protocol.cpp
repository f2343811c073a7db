#include "monitor/influx/line_protocol.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace ctmon::influx {
namespace {

std::string escape(std::string_view text, std::string_view special) {
  const auto is_special = [&](char c) {
    return c == '\r' || c == '\n' || special.find(c) != std::string_view::npos;
  };
  std::string out;
  out.reserve(text.size() + 4);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {  // would end the line
      out += "\\ ";
      continue;
    }
    // A backslash before a special character or at the end would escape our separator
    // (`host=a\ f=1` never ends the tag): double it. InfluxDB then stores both characters,
    // which is the lesser harm than a line that does not parse.
    if (c == '\\' && (i + 1 == text.size() || is_special(text[i + 1]))) {
      out += "\\\\";
      continue;
    }
    if (is_special(c)) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string escape_measurement(std::string_view name) { return escape(name, ", "); }

std::string escape_key(std::string_view key) { return escape(key, ",= "); }

std::string quote_string_field(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out += '"';
  for (const char c : value) {
    if (c == '\r' || c == '\n') {
      out += ' ';
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::optional<std::string> format_float(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  if (value == 0.0) return std::string("0");  // also -0: "-0" is legal but pointless
  // Fixed notation with the shortest round-trip digits: 1e300 needs 301 digits plus sign.
  char buf[400];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (ec != std::errc()) return std::nullopt;
  return std::string(buf, end);
}

std::string format_count(std::uint64_t value) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return std::to_string(std::min(value, kMax)) + 'i';
}

std::optional<std::string> to_line(const Point& point) {
  if (point.measurement.empty()) return std::nullopt;
  std::string fields;
  for (const auto& [key, value] : point.fields) {
    std::string text;
    if (const double* d = std::get_if<double>(&value)) {
      const auto f = format_float(*d);
      if (!f) continue;
      text = *f;
    } else if (const std::int64_t* i = std::get_if<std::int64_t>(&value)) {
      text = std::to_string(*i) + 'i';
    } else if (const std::string* s = std::get_if<std::string>(&value)) {
      text = quote_string_field(*s);
    } else {
      text = std::get<bool>(value) ? "true" : "false";
    }
    if (key.empty()) continue;
    if (!fields.empty()) fields += ',';
    fields += escape_key(key);
    fields += '=';
    fields += text;
  }
  if (fields.empty()) return std::nullopt;

  std::vector<std::pair<std::string, std::string>> tags;
  for (const auto& [key, value] : point.tags)
    if (!key.empty() && !value.empty()) tags.emplace_back(key, value);
  std::sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string line = escape_measurement(point.measurement);
  for (const auto& [key, value] : tags) {
    line += ',';
    line += escape_key(key);
    line += '=';
    line += escape_key(value);
  }
  line += ' ';
  line += fields;
  line += ' ';
  line += std::to_string(point.time_ms);
  return line;
}

}  // namespace ctmon::influx

#pragma once
// InfluxDB line protocol, written exactly as the reference describes, checked
// against InfluxDB 1.6 (docs/formats.md):
//
//   <measurement>[,<tag key>=<tag value>...] <field key>=<field value>[,...] <timestamp ms>
//
// - measurement: `,` and space are backslash-escaped (`=` is legal there);
// - tag keys, tag values, field keys: `,`, `=` and space are escaped; a tag with an empty value
//   is omitted (InfluxDB answers 400 "missing tag value"); tags are sorted by key (bytewise, as
//   InfluxDB wants them); CR/LF become an escaped space; a `\` at the end or before a special
//   character is doubled so that it cannot escape the separator after it;
// - string field values: inside double quotes, `"` and `\` escaped; CR and LF become a space
//   (a raw newline would end the line; CRLF endings are rejected);
// - floats: shortest round-trip decimal, never an exponent (`1e3` is legal, but Telegraf never
//   writes it and neither do we); NaN and ±Inf are never written: the field is left out, and a
//   point left without fields is not written at all;
// - integers: signed 64-bit with the `i` suffix (the `u` suffix is 2.x only: 1.6 answers 400);
// - timestamps: integer milliseconds since the epoch; every request says precision=ms.
//
// Pure functions, no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ctmon::influx {

/// Escapes a measurement name (`,` and space).
[[nodiscard]] std::string escape_measurement(std::string_view name);

/// Escapes a tag key, a tag value or a field key (`,`, `=` and space).
[[nodiscard]] std::string escape_key(std::string_view key);

/// The quoted form of a string field value: `"` + escaped text + `"`, CR/LF replaced by spaces.
[[nodiscard]] std::string quote_string_field(std::string_view value);

/// A finite double as line protocol writes it: shortest round-trip, fixed notation, no exponent
/// ("1", "0.5", "-1234.25", "0.000001"). Returns nothing for NaN and ±Inf.
[[nodiscard]] std::optional<std::string> format_float(double value);

/// An unsigned count as an integer field value ("42i"), clamped to INT64_MAX (the largest value
/// 1.x can store, as Telegraf clamps it).
[[nodiscard]] std::string format_count(std::uint64_t value);

/// Milliseconds since the epoch from nanoseconds, rounded towards minus infinity so that a
/// sample never moves into the next millisecond.
[[nodiscard]] constexpr std::int64_t ns_to_ms(std::int64_t ns) {
  return ns >= 0 ? ns / 1'000'000 : -((-ns + 999'999) / 1'000'000);
}

/// A field value: float, signed integer (`i`), string (quoted) or boolean.
using FieldValue = std::variant<double, std::int64_t, std::string, bool>;

/// One point. Build it, then to_line() it.
struct Point {
  std::string measurement;
  std::vector<std::pair<std::string, std::string>> tags;  ///< any order; empty values dropped
  std::vector<std::pair<std::string, FieldValue>> fields;  ///< kept in the given order
  std::int64_t time_ms = 0;
};

/// The point as one line (no trailing newline), or nothing when it has no writable field
/// (no fields at all, or only NaN/Inf floats) or an empty measurement.
[[nodiscard]] std::optional<std::string> to_line(const Point& point);

}  // namespace ctmon::influx

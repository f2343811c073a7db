#pragma once
// How an error line shows what the user gave it: an error must stay ONE line and short, whatever
// the input held (a newline in a table name, a 10 MB CSV field, terminal escape sequences).

#include <cstddef>
#include <string>
#include <string_view>

namespace ctmon {

/// How much of a bad input an error line echoes: enough to recognise it, never a screenful.
inline constexpr std::size_t kInputExcerptChars = 40;

/// `text` as an error line may quote it: at most `max_chars` bytes of it, followed by "..." when
/// there was more; every byte outside printable ASCII (control characters, DEL, UTF-8 and other
/// 8-bit bytes) and the backslash written as an escape (\n, \t, \r, \\, \xNN), so the line can
/// neither break nor drive the terminal. Never throws anything but std::bad_alloc.
[[nodiscard]] inline std::string input_excerpt(std::string_view text,
                                               std::size_t max_chars = kInputExcerptChars) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown = text.size() > max_chars ? max_chars : text.size();
  out.reserve(shown + 3);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\\') {
      out += "\\\\";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  if (shown < text.size()) out += "...";
  return out;
}

}  // namespace ctmon

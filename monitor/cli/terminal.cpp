#include "monitor/cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

namespace ctmon::cli {
namespace {

bool names_utf8(std::string_view locale) {
  std::string lower;
  for (const char c : locale) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the ANSI escape sequence starting at text[i] (ESC [ ... final byte), 0 if none.
std::size_t escape_length(std::string_view text, std::size_t i) {
  if (text[i] != '\x1b' || i + 1 >= text.size() || text[i + 1] != '[') return 0;
  std::size_t j = i + 2;
  while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
  return j < text.size() ? j - i + 1 : text.size() - i;
}

}  // namespace

Terminal decide_terminal(bool stdout_is_tty, std::size_t tty_columns, GetEnv getenv) {
  Terminal t;
  t.width = stdout_is_tty && tty_columns > 0 ? tty_columns : 80;
  if (const char* columns = getenv("COLUMNS"); columns != nullptr && *columns != '\0') {
    char* end = nullptr;
    const long n = std::strtol(columns, &end, 10);
    if (*end == '\0' && n > 0) t.width = static_cast<std::size_t>(n);
  }
  const char* no_colour = getenv("NO_COLOR");
  const char* term = getenv("TERM");
  t.colour = stdout_is_tty && (no_colour == nullptr || *no_colour == '\0') &&
             (term == nullptr || std::strcmp(term, "dumb") != 0);
  // POSIX precedence: the first of these that is set (and not empty) decides the character set.
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    if (const char* value = getenv(name); value != nullptr && *value != '\0') {
      t.utf8 = names_utf8(value);
      break;
    }
  }
  return t;
}

Terminal detect_terminal() {
  const bool tty = isatty(STDOUT_FILENO) != 0;
  std::size_t columns = 0;
  if (winsize ws{}; tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) columns = ws.ws_col;
  return decide_terminal(tty, columns, [](const char* name) -> const char* { return std::getenv(name); });
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t esc = escape_length(text, i); esc > 0) {
      i += esc;
      continue;
    }
    if (!is_continuation(static_cast<unsigned char>(text[i]))) ++width;
    ++i;
  }
  return width;
}

std::string fit_width(std::string_view text, std::size_t width, bool utf8) {
  // Decode into whole characters first, so a cut never lands inside one.
  std::string out;
  std::size_t columns = 0;
  const std::string_view ellipsis = utf8 ? "\u2026" : "...";
  const std::size_t ellipsis_width = utf8 ? 1 : 3;
  const bool fits = display_width(text) <= width;
  const std::size_t budget = fits ? width : (width > ellipsis_width ? width - ellipsis_width : 0);
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t esc = escape_length(text, i); esc > 0) {
      out += text.substr(i, esc);
      i += esc;
      continue;
    }
    std::size_t len = 1;
    while (i + len < text.size() && is_continuation(static_cast<unsigned char>(text[i + len]))) ++len;
    if (columns + 1 > budget) break;
    if (utf8 || len == 1)
      out += text.substr(i, len);
    else
      out += '?';
    ++columns;
    i += len;
  }
  if (!fits && out.find('\x1b') != std::string::npos) out += "\x1b[0m";  // no colour bleeding on
  if (!fits) out += ellipsis.substr(0, width >= ellipsis_width ? ellipsis.size() : width);
  return out;
}

std::string paint(std::string_view text, std::string_view code, bool colour) {
  if (!colour || text.empty() || code.empty()) return std::string(text);
  return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace ctmon::cli

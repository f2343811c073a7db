#pragma once
// What the terminal on stdout can show: its width, whether colour is welcome, whether it takes
// UTF-8. Decided once per command from the environment, so the formatting code below it is pure
// and testable with any combination.

#include <cstddef>
#include <string>
#include <string_view>

namespace ctmon::cli {

struct Terminal {
  std::size_t width = 80;  ///< columns available for one line
  bool colour = false;     ///< ANSI colour escapes allowed
  bool utf8 = false;       ///< box-drawing and block characters allowed; else plain ASCII
};

/// Environment lookups, injectable for tests: returns the variable's value or nullptr.
using GetEnv = const char* (*)(const char*);

/// The terminal on stdout:
///  width  - COLUMNS when set to a positive number, else the tty's width, else 80 (a pipe);
///  colour - only when stdout is a tty, NO_COLOR is unset or empty and TERM is not "dumb";
///  utf8   - when the first set of LC_ALL, LC_CTYPE, LANG names a UTF-8 codeset (LANG=C: ASCII).
[[nodiscard]] Terminal detect_terminal();

/// The same decision with the tty facts and the environment given (for tests).
[[nodiscard]] Terminal decide_terminal(bool stdout_is_tty, std::size_t tty_columns, GetEnv getenv);

/// Number of terminal columns `text` takes: UTF-8 code points, skipping ANSI escape sequences.
[[nodiscard]] std::size_t display_width(std::string_view text);

/// `text` cut to at most `width` columns, ending in "…" (UTF-8) or "..." (ASCII) when cut.
/// Never splits a UTF-8 sequence. In ASCII mode non-ASCII characters become '?'.
[[nodiscard]] std::string fit_width(std::string_view text, std::size_t width, bool utf8);

/// `text` wrapped in the ANSI SGR `code` (e.g. "1;31") and a reset, or unchanged without colour.
[[nodiscard]] std::string paint(std::string_view text, std::string_view code, bool colour);

}  // namespace ctmon::cli

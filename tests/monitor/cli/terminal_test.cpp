// What the terminal gets: width, colour and character set from the environment.
#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "monitor/cli/terminal.h"

namespace {

std::map<std::string, std::string> g_env;

const char* fake_getenv(const char* name) {
  const auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

}  // namespace

using ctmon::cli::decide_terminal;

TEST_CASE("width is COLUMNS when set, else the tty's, else 80") {
  g_env = {};
  CHECK(decide_terminal(false, 0, fake_getenv).width == 80);
  CHECK(decide_terminal(true, 132, fake_getenv).width == 132);
  g_env = {{"COLUMNS", "100"}};
  CHECK(decide_terminal(false, 0, fake_getenv).width == 100);
  CHECK(decide_terminal(true, 132, fake_getenv).width == 100);
  g_env = {{"COLUMNS", "wide"}};
  CHECK(decide_terminal(false, 0, fake_getenv).width == 80);
  g_env = {{"COLUMNS", "0"}};
  CHECK(decide_terminal(true, 120, fake_getenv).width == 120);
}

TEST_CASE("colour only on a tty, never with NO_COLOR or TERM=dumb") {
  g_env = {};
  CHECK(decide_terminal(true, 80, fake_getenv).colour);
  CHECK_FALSE(decide_terminal(false, 80, fake_getenv).colour);
  g_env = {{"NO_COLOR", "1"}};
  CHECK_FALSE(decide_terminal(true, 80, fake_getenv).colour);
  g_env = {{"NO_COLOR", ""}};  // the NO_COLOR convention: only a non-empty value counts
  CHECK(decide_terminal(true, 80, fake_getenv).colour);
  g_env = {{"TERM", "dumb"}};
  CHECK_FALSE(decide_terminal(true, 80, fake_getenv).colour);
}

TEST_CASE("UTF-8 follows LC_ALL, then LC_CTYPE, then LANG; LANG=C is ASCII") {
  g_env = {};
  CHECK_FALSE(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "C"}};
  CHECK_FALSE(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "en_US.UTF-8"}};
  CHECK(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "C.utf8"}};
  CHECK(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "en_US.UTF-8"}, {"LC_ALL", "C"}};
  CHECK_FALSE(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "C"}, {"LC_CTYPE", "de_DE.UTF-8"}};
  CHECK(decide_terminal(true, 80, fake_getenv).utf8);
  g_env = {{"LANG", "C"}, {"LC_ALL", ""}, {"LC_CTYPE", "de_DE.UTF-8"}};
  CHECK(decide_terminal(true, 80, fake_getenv).utf8);
}

TEST_CASE("fit_width cuts to the column count with an ellipsis, never inside a character") {
  using ctmon::cli::fit_width;
  CHECK(fit_width("short", 10, true) == "short");
  CHECK(fit_width("exactly10!", 10, true) == "exactly10!");
  CHECK(fit_width("a longer sentence", 10, true) == "a longer \u2026");
  CHECK(fit_width("a longer sentence", 10, false) == "a longe...");
  CHECK(fit_width("\u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9", 6, true) == "\u00e9t\u00e9 \u00e9\u2026");
  CHECK(fit_width("caf\u00e9", 10, false) == "caf?");
  CHECK(ctmon::cli::display_width("\u2591\u2591x") == 3);
}

TEST_CASE("colour escapes take no columns and are closed when the line is cut") {
  using ctmon::cli::paint;
  const std::string red = paint("hot", "31", true);
  CHECK(red == "\x1b[31mhot\x1b[0m");
  CHECK(paint("hot", "31", false) == "hot");
  CHECK(ctmon::cli::display_width(red + " day") == 7);
  CHECK(ctmon::cli::fit_width(red + " day", 7, false) == red + " day");
  const std::string cut = ctmon::cli::fit_width(paint("a very hot day", "31", true), 8, false);
  CHECK(cut == "\x1b[31ma ver\x1b[0m...");
}

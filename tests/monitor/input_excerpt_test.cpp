#include "monitor/input_excerpt.h"

#include <string>

#include <catch2/catch.hpp>

using ctmon::input_excerpt;

TEST_CASE("short printable input is echoed as it is") {
  CHECK(input_excerpt("ip:conntrack_stats") == "ip:conntrack_stats");
  CHECK(input_excerpt("") == "");
}

TEST_CASE("long input is cut to its first 40 bytes and marked") {
  const std::string big(10'000'000, 'x');
  const std::string shown = input_excerpt(big);
  CHECK(shown == std::string(40, 'x') + "...");
  CHECK(input_excerpt(std::string(40, 'y')) == std::string(40, 'y'));
  CHECK(input_excerpt("abcdef", 3) == "abc...");
}

TEST_CASE("bytes that could break the line or drive the terminal are escaped") {
  CHECK(input_excerpt("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(input_excerpt("\x1b[2J") == "\\x1b[2J");
  CHECK(input_excerpt(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(input_excerpt("\xc3\xa4") == "\\xc3\\xa4");
  CHECK(input_excerpt("back\\slash") == "back\\\\slash");
  CHECK(input_excerpt("\x7f") == "\\x7f");
}

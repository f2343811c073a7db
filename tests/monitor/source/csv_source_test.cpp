#include <catch2/catch.hpp>

#include <sstream>

#include "monitor/source/csv_source.h"
#include "monitor/user_error.h"

namespace ctmon {
namespace {

std::string error_of(const std::string& text) {
  std::istringstream in(text);
  try {
    CsvSource src(in, "day.csv");
    Sample s;
    CounterCatalog c;
    while (src.next(s, c)) {
    }
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a replay CSV yields samples with cumulative counts and both clocks from the timestamp") {
  std::istringstream in(
      "timestamp,tcp_conntrack_fwd_new,udp_conntrack_fwd_new\r\n"
      "1717372800,10,20\r\n"
      "1717372801.5,15,\r\n"
      "\n");
  CsvSource src(in, "day.csv");
  CounterCatalog catalog;
  Sample s;
  REQUIRE(src.next(s, catalog));
  CHECK(catalog.size() == 2);
  CHECK(s.wall_ns == 1717372800LL * 1'000'000'000);
  CHECK(s.mono_ns == s.wall_ns);
  CHECK(s.counters[catalog.find("tcp_conntrack_fwd_new")] == CounterTotals{10, 0, true});
  REQUIRE(src.next(s, catalog));
  CHECK(s.wall_ns == 1717372801LL * 1'000'000'000 + 500'000'000);
  CHECK_FALSE(s.counters[1].present);  // empty field: absent from that reading
  CHECK_FALSE(src.next(s, catalog));
}

TEST_CASE("counters keep ids already in the catalog") {
  std::istringstream in("timestamp,b,a\n1,1,2\n");
  CounterCatalog catalog;
  catalog.intern("a");
  CsvSource src(in, "x.csv");
  Sample s;
  REQUIRE(src.next(s, catalog));
  CHECK(s.counters[0].packets == 2);  // "a" kept id 0
  CHECK(s.counters[1].packets == 1);
}

TEST_CASE("malformed replay files fail with one line naming file, line, column and what was expected") {
  CHECK(error_of("") == "day.csv: the file is empty; a replay CSV starts with the header timestamp,<counter>,...");
  CHECK(error_of("time,a\n") == "day.csv:1: column 1 (timestamp): expected the header 'timestamp,<counter>,...', got 'time'");
  CHECK(error_of("timestamp,a,a\n") == "day.csv:1: column 3: expected a distinct, non-empty counter name, got 'a'");
  CHECK(error_of("timestamp,a,b\n1,2,3\n2,x,3\n") ==
        "day.csv:3: column 2 (a): expected a cumulative packet count (a non-negative integer) or nothing, got 'x'");
  CHECK(error_of("timestamp,a,b\n1,2,-3\n") ==
        "day.csv:2: column 3 (b): expected a cumulative packet count (a non-negative integer) or nothing, got '-3'");
  CHECK(error_of("timestamp,a,b\n2024-06-03,2,3\n") ==
        "day.csv:2: column 1 (timestamp): expected unix seconds (integer or decimal), got '2024-06-03'");
  CHECK(error_of("timestamp,a,b\n1,2\n") == "day.csv:2: column 3 (b): expected 3 comma-separated fields like the header, got '2 fields'");
  CHECK(error_of("timestamp,a,b\n1,2,3,4\n") == "day.csv:2: column 4: expected 3 comma-separated fields like the header, got '4 fields'");
}


TEST_CASE("a duplicate counter name is found among 70,000 columns, and named") {
  std::string header = "timestamp";
  for (int i = 0; i < 70'000; ++i) header += ",c" + std::to_string(i);
  CHECK(error_of(header + "\n").empty());
  CHECK(error_of(header + ",c69998\n") ==
        "day.csv:1: column 70002: expected a distinct, non-empty counter name, got 'c69998'");
  CHECK(error_of(header + ", c0 \n") ==
        "day.csv:1: column 70002: expected a distinct, non-empty counter name, got 'c0'");
}

TEST_CASE("a huge or unprintable bad field is echoed as 40 escaped bytes, on one line") {
  const std::string big(10'000'000, '7');
  const std::string error = error_of("timestamp,a\n1," + big + "x\n");
  CHECK(error == "day.csv:2: column 2 (a): expected a cumulative packet count (a non-negative "
                 "integer) or nothing, got '" + std::string(40, '7') + "...'");
  CHECK(error_of("timestamp,a\n1,\x1b[31mred\n") ==
        "day.csv:2: column 2 (a): expected a cumulative packet count (a non-negative integer) or "
        "nothing, got '\\x1b[31mred'");
  const std::string long_name(1000, 'n');
  CHECK(error_of("timestamp," + long_name + "\n1,x\n") ==
        "day.csv:2: column 2 (" + std::string(40, 'n') + "...): expected a cumulative packet "
        "count (a non-negative integer) or nothing, got 'x'");
  CHECK(error_of(big + "\n").size() < 200);
}

TEST_CASE("rows must advance in time once asked to, and the error names the row") {
  const std::string text = "timestamp,a\n10,1\n11,2\n11,3\n";
  {
    std::istringstream in(text);
    CsvSource src(in, "day.csv");
    Sample s;
    CounterCatalog c;
    int rows = 0;
    while (src.next(s, c)) ++rows;
    CHECK(rows == 3);  // by default a repeated time is returned; the detectors skip the step
  }
  std::istringstream in(text);
  CsvSource src(in, "day.csv");
  src.require_advancing_time();
  Sample s;
  CounterCatalog c;
  REQUIRE(src.next(s, c));
  REQUIRE(src.next(s, c));
  CHECK_THROWS_WITH(src.next(s, c),
                    Catch::StartsWith("day.csv:4: column 1 (timestamp): expected a time after the "
                                      "previous row's 11") &&
                        Catch::EndsWith("got '11'"));
}

TEST_CASE("a missing file is a user error saying what to check") {
  CHECK_THROWS_WITH(CsvSource("/nonexistent/ctmon.csv"),
                    "cannot open '/nonexistent/ctmon.csv': check the path and that it is readable");
}

TEST_CASE("unix seconds parse exactly, integer or decimal") {
  std::int64_t ns = 0;
  CHECK(parse_unix_seconds("1717372800.250", ns));
  CHECK(ns == 1717372800250000000LL);
  CHECK(parse_unix_seconds(" 42 ", ns));
  CHECK(ns == 42'000'000'000LL);
  CHECK_FALSE(parse_unix_seconds("-1", ns));
  CHECK_FALSE(parse_unix_seconds("1.", ns));
  CHECK_FALSE(parse_unix_seconds("1e9", ns));
}

TEST_CASE("a NAB series reads its rows and keeps the timestamps as written") {
  std::istringstream in("timestamp,value\n2014-04-01 00:00:00,12.5\n2014-04-01 00:05:00,-3\n");
  GaugeCsvReader r(in, "nab.csv");
  GaugeRow row;
  REQUIRE(r.next(row));
  CHECK(row.timestamp == "2014-04-01 00:00:00");
  CHECK(row.unix_s == 1396310400);
  CHECK(row.value == 12.5);
  REQUIRE(r.next(row));
  CHECK(row.value == -3.0);
  CHECK(row.value_text == "-3");
  CHECK_FALSE(r.next(row));
}

TEST_CASE("a malformed NAB series fails with the line and column") {
  auto err = [](const std::string& text) {
    std::istringstream in(text);
    try {
      GaugeCsvReader r(in, "nab.csv");
      GaugeRow row;
      while (r.next(row)) {
      }
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(err("timestamp,value\n2014-04-01 00:00:00,abc\n") == "nab.csv:2: column 2 (value): expected a number, got 'abc'");
  CHECK(err("timestamp,value\n2014-13-01 00:00:00,1\n") ==
        "nab.csv:2: column 1 (timestamp): expected a time like 2014-04-01 00:00:00, got '2014-13-01 00:00:00'");
  CHECK(err("ts,v\n") == "nab.csv:1: column 1 (timestamp): expected the header 'timestamp,value', got 'ts,v'");
  CHECK(err(std::string(10'000'000, 'v') + "\n") ==
        "nab.csv:1: column 1 (timestamp): expected the header 'timestamp,value', got '" +
            std::string(40, 'v') + "...'");
}

}  // namespace ctmon

// Every escaping and formatting rule of docs/formats.md "Line-protocol rules", one check each.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "monitor/influx/line_protocol.h"

using namespace ctmon::influx;

TEST_CASE("a measurement escapes comma and space but not the equals sign") {
  CHECK(escape_measurement("cpu load,x") == "cpu\\ load\\,x");
  CHECK(escape_measurement("meas=ok") == "meas=ok");
}

TEST_CASE("tag keys, tag values and field keys escape comma, equals sign and space") {
  CHECK(escape_key("a,b=c d") == "a\\,b\\=c\\ d");
  CHECK(escape_key("plain_name") == "plain_name");
}

TEST_CASE("a lone backslash stays literal, but never escapes our separator") {
  CHECK(escape_key("em\\j") == "em\\j");           // backslash before an ordinary character
  CHECK(escape_key("trail\\") == "trail\\\\");     // at the end it would escape the next separator
  CHECK(escape_key("a\\,b") == "a\\\\\\,b");       // before a special character: doubled, then escaped
  CHECK(escape_measurement("m\\") == "m\\\\");
}

TEST_CASE("newlines in names and tag values cannot end the line") {
  CHECK(escape_key("a\nb\rc") == "a\\ b\\ c");
}

TEST_CASE("a string field is quoted with quote and backslash escaped") {
  CHECK(quote_string_field("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(quote_string_field("C:\\dir") == "\"C:\\\\dir\"");
  CHECK(quote_string_field("tr\\") == "\"tr\\\\\"");
  CHECK(quote_string_field("a,b=c d") == "\"a,b=c d\"");  // nothing else needs escaping inside quotes
}

TEST_CASE("CR and LF in string fields become spaces") {
  CHECK(quote_string_field("line1\r\nline2\nx") == "\"line1  line2 x\"");
}

TEST_CASE("floats are written without exponent, shortest round trip") {
  CHECK(format_float(1.0) == "1");
  CHECK(format_float(0.5) == "0.5");
  CHECK(format_float(-1234.25) == "-1234.25");
  CHECK(format_float(1e-6) == "0.000001");
  CHECK(format_float(1e21) == "1000000000000000000000");
  CHECK(format_float(0.1) == "0.1");
  CHECK(format_float(-0.0) == "0");
  const auto huge = format_float(std::numeric_limits<double>::max());
  REQUIRE(huge);
  CHECK(huge->find('e') == std::string::npos);
  CHECK(huge->size() == 309);
}

TEST_CASE("NaN and infinities are never written") {
  CHECK_FALSE(format_float(std::nan("")));
  CHECK_FALSE(format_float(std::numeric_limits<double>::infinity()));
  CHECK_FALSE(format_float(-std::numeric_limits<double>::infinity()));
  Point p{"m", {}, {{"a", std::nan("")}, {"b", 2.5}}, 1};
  CHECK(to_line(p) == "m b=2.5 1");
  Point only_nan{"m", {}, {{"a", std::nan("")}}, 1};
  CHECK_FALSE(to_line(only_nan));  // a point without fields is a 400: not written at all
}

TEST_CASE("integers carry the i suffix and counts clamp to int64") {
  CHECK(format_count(42) == "42i");
  CHECK(format_count(std::numeric_limits<std::uint64_t>::max()) == "9223372036854775807i");
  Point p{"m", {}, {{"n", std::int64_t{-9223372036854775807LL - 1}}}, 0};
  CHECK(to_line(p) == "m n=-9223372036854775808i 0");
}

TEST_CASE("booleans are unquoted true and false") {
  Point p{"m", {}, {{"t", true}, {"f", false}}, 5};
  CHECK(to_line(p) == "m t=true,f=false 5");
}

TEST_CASE("tags are sorted by key and empty tag values are omitted") {
  Point p{"ctmon_rate", {{"state", "new"}, {"host", "gw"}, {"proto", ""}, {"counter", "x y"}},
          {{"pps", 1.5}, {"packets", std::int64_t{15}}}, 1700000000123};
  CHECK(to_line(p) == "ctmon_rate,counter=x\\ y,host=gw,state=new pps=1.5,packets=15i 1700000000123");
}

TEST_CASE("a full event marker line escapes every part") {
  Point p{"ctmon_event", {{"host", "my router"}},
          {{"title", "ctmon: scan"}, {"text", "a \"b\"\nc"}, {"score", 0.75}, {"time_end", std::int64_t{20}}},
          10};
  CHECK(to_line(p) == "ctmon_event,host=my\\ router title=\"ctmon: scan\",text=\"a \\\"b\\\" c\",score=0.75,time_end=20i 10");
}

TEST_CASE("field keys are escaped like tag keys") {
  Point p{"m", {}, {{"a b,c=d", 1.0}}, 0};
  CHECK(to_line(p) == "m a\\ b\\,c\\=d=1 0");
}

TEST_CASE("an empty measurement or no field gives no line") {
  CHECK_FALSE(to_line(Point{"", {}, {{"a", 1.0}}, 0}));
  CHECK_FALSE(to_line(Point{"m", {{"t", "v"}}, {}, 0}));
}

TEST_CASE("nanoseconds become milliseconds rounded down, also before 1970") {
  CHECK(ns_to_ms(1'700'000'000'123'999'999) == 1'700'000'000'123);
  CHECK(ns_to_ms(0) == 0);
  CHECK(ns_to_ms(-1) == -1);
  CHECK(ns_to_ms(-1'000'000) == -1);
  CHECK(ns_to_ms(-1'000'001) == -2);
}

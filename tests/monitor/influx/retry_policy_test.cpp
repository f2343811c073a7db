#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "monitor/influx/gzip.h"
#include "monitor/influx/retry_policy.h"

using namespace ctmon::influx;

TEST_CASE("HTTP answers map to what the sender does") {
  CHECK(classify_http_status(204) == Outcome::kSent);
  CHECK(classify_http_status(200) == Outcome::kSent);
  CHECK(classify_http_status(400) == Outcome::kBadBatch);
  CHECK(classify_http_status(422) == Outcome::kBadBatch);
  CHECK(classify_http_status(413) == Outcome::kTooLarge);
  CHECK(classify_http_status(429) == Outcome::kThrottled);
  CHECK(classify_http_status(503) == Outcome::kThrottled);
  CHECK(classify_http_status(401) == Outcome::kUnauthorized);
  CHECK(classify_http_status(403) == Outcome::kForbidden);
  CHECK(classify_http_status(404) == Outcome::kNotFound);
  CHECK(classify_http_status(500) == Outcome::kServerError);
  CHECK(classify_http_status(502) == Outcome::kServerError);
  CHECK(classify_http_status(0) == Outcome::kUnreachable);
}

TEST_CASE("backoff doubles from 1 s up to 5 min, with half of it jittered") {
  CHECK(backoff_delay_ms(0, 0.5) == 0);
  CHECK(backoff_delay_ms(1, 0.0) == 500);
  CHECK(backoff_delay_ms(1, 1.0) == 1000);
  CHECK(backoff_delay_ms(2, 0.0) == 1000);
  CHECK(backoff_delay_ms(3, 1.0) == 4000);
  CHECK(backoff_delay_ms(10, 1.0) == 300000);  // 512 s capped
  CHECK(backoff_delay_ms(10, 0.0) == 150000);
  CHECK(backoff_delay_ms(4000000000u, 0.99) <= 300000);
  std::int64_t previous = 0;
  for (std::uint32_t f = 1; f < 12; ++f) {
    const std::int64_t d = backoff_delay_ms(f, 0.0);
    CHECK(d >= previous);
    previous = d;
  }
}

TEST_CASE("different random draws give different waits within the band") {
  std::set<std::int64_t> waits;
  for (int i = 0; i < 10; ++i) {
    const std::int64_t d = backoff_delay_ms(5, i / 10.0);
    CHECK(d >= 8000);
    CHECK(d <= 16000);
    waits.insert(d);
  }
  CHECK(waits.size() == 10);
}

TEST_CASE("Retry-After in seconds is honoured and capped; the date form is not parsed") {
  CHECK(parse_retry_after_ms("120") == 120000);
  CHECK(parse_retry_after_ms(" 5\r\n") == 5000);
  CHECK(parse_retry_after_ms("0") == 0);
  CHECK(parse_retry_after_ms("99999") == kRetryAfterMax_ms);
  CHECK_FALSE(parse_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(parse_retry_after_ms("-3"));
  CHECK_FALSE(parse_retry_after_ms(""));
  CHECK_FALSE(parse_retry_after_ms("1.5"));
}

TEST_CASE("A Retry-After header line is recognised in any case; other headers give nothing") {
  CHECK(retry_after_header_ms("Retry-After: 120\r\n") == 120000);
  CHECK(retry_after_header_ms("retry-after:5") == 5000);
  CHECK(retry_after_header_ms("RETRY-AFTER: 99999\r\n") == kRetryAfterMax_ms);
  CHECK_FALSE(retry_after_header_ms("Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"));
  CHECK_FALSE(retry_after_header_ms("Content-Length: 120\r\n"));
  CHECK_FALSE(retry_after_header_ms("Retry-After:"));
  CHECK_FALSE(retry_after_header_ms("X-Retry-After: 5\r\n"));
}

namespace {
// Runs a bisection of n lines against a server that refuses any range containing a bad line.
struct Run {
  std::set<std::size_t> accepted;
  std::set<std::size_t> rejected;
  int requests = 0;
};
Run bisect(std::size_t n, const std::set<std::size_t>& bad) {
  Run run;
  Bisector b;
  b.reset(n);
  while (!b.done()) {
    ++run.requests;
    const auto [first, end] = b.current();
    bool contains_bad = false;
    for (std::size_t i = first; i < end; ++i) contains_bad |= bad.count(i) > 0;
    if (!contains_bad) {
      for (std::size_t i = first; i < end; ++i) run.accepted.insert(i);
      b.accepted();
    } else if (b.refused()) {
      run.rejected.insert(first);
    }
  }
  return run;
}
}  // namespace

TEST_CASE("bisection isolates exactly the bad line and delivers all others") {
  const Run run = bisect(5000, {1234});
  CHECK(run.rejected == std::set<std::size_t>{1234});
  CHECK(run.accepted.size() == 4999);
  CHECK(run.requests <= 2 * 13 + 1);
}

TEST_CASE("bisection handles several bad lines, the first and the last") {
  const Run run = bisect(100, {0, 50, 99});
  CHECK(run.rejected == std::set<std::size_t>{0, 50, 99});
  CHECK(run.accepted.size() == 97);
}

TEST_CASE("a batch without bad lines is one request; an empty one none") {
  CHECK(bisect(10, {}).requests == 1);
  CHECK(bisect(0, {}).requests == 0);
  const Run one = bisect(1, {0});
  CHECK(one.rejected.size() == 1);
  CHECK(one.requests == 1);
}

TEST_CASE("gzip bodies round-trip and compress line protocol") {
  std::string body;
  for (int i = 0; i < 1000; ++i)
    body += "ctmon_rate,counter=tcp_conntrack_fwd_new,host=gw pps=" + std::to_string(i) + ",packets=" +
            std::to_string(i * 10) + "i 17000000" + std::to_string(10000 + i) + "\n";
  const std::string z = gzip_compress(body);
  CHECK(z.size() < body.size() / 5);
  CHECK(static_cast<unsigned char>(z[0]) == 0x1f);  // gzip magic
  CHECK(static_cast<unsigned char>(z[1]) == 0x8b);
  CHECK(gzip_decompress(z) == body);
  CHECK(gzip_decompress(gzip_compress("")).empty());
  CHECK_THROWS(gzip_decompress(z.substr(0, z.size() / 2)));
}

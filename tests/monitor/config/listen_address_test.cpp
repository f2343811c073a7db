// prometheus_listen's address: what is accepted, what each form means, and a one-line reason for
// what is not.
#include "monitor/config/listen_address.h"

#include <catch2/catch.hpp>

#include "monitor/config/config.h"
#include "monitor/user_error.h"

using namespace ctmon;

namespace {

ListenAddress parsed(std::string_view text) {
  auto result = parse_listen_address(text);
  if (const auto* problem = std::get_if<std::string>(&result)) FAIL(std::string(text) + ": " + *problem);
  return std::get<ListenAddress>(result);
}

std::string problem(std::string_view text) {
  auto result = parse_listen_address(text);
  const auto* why = std::get_if<std::string>(&result);
  return why == nullptr ? "" : *why;
}

}  // namespace

TEST_CASE("listen address: IPv4, bracketed IPv6 and :port") {
  const ListenAddress v4 = parsed("192.168.1.1:9101");
  CHECK(v4.family == ListenAddress::Family::kIpv4);
  CHECK(v4.host == "192.168.1.1");
  CHECK(v4.port == 9101);
  CHECK(v4.text() == "192.168.1.1:9101");

  const ListenAddress v6 = parsed("[fd00::1]:9101");
  CHECK(v6.family == ListenAddress::Family::kIpv6);
  CHECK(v6.host == "fd00::1");
  CHECK(v6.text() == "[fd00::1]:9101");

  const ListenAddress any = parsed(":9101");
  CHECK(any.family == ListenAddress::Family::kAny);
  CHECK(any.host.empty());
  CHECK(any.text() == ":9101");
  CHECK(parsed("[::]:65535").port == 65535);
}

TEST_CASE("listen address: what is refused says why") {
  CHECK_THAT(problem("9101"), Catch::Contains("no port"));
  CHECK_THAT(problem("127.0.0.1:"), Catch::Contains("not a number from 1 to 65535"));
  CHECK_THAT(problem("127.0.0.1:0"), Catch::Contains("from 1 to 65535"));
  CHECK_THAT(problem("127.0.0.1:65536"), Catch::Contains("from 1 to 65535"));
  CHECK_THAT(problem("127.0.0.1:91x"), Catch::Contains("'91x'"));
  CHECK_THAT(problem("localhost:9101"), Catch::Contains("not a numeric IPv4 address"));
  CHECK_THAT(problem("300.1.1.1:9101"), Catch::Contains("not a numeric IPv4 address"));
  CHECK_THAT(problem("fd00::1:9101"), Catch::Contains("in brackets"));
  CHECK_THAT(problem("[fd00::zz]:9101"), Catch::Contains("not a numeric IPv6 address"));
  CHECK_THAT(problem("[]:9101"), Catch::Contains("expected ADDRESS:PORT"));
}

TEST_CASE("listen address: a bad prometheus_listen fails validation, naming the key") {
  Config config;
  config.prometheus_listen = "192.168.1.1";
  CHECK_THROWS_WITH(validate_config(config), Catch::StartsWith("prometheus_listen '192.168.1.1': no port"));
  config.prometheus_listen = "";
  CHECK_NOTHROW(validate_config(config));  // off
  config.prometheus_listen = "127.0.0.1:9101";
  CHECK_NOTHROW(validate_config(config));
}

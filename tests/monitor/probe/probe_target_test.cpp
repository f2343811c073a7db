#include "monitor/probe/probe_target.h"

#include <arpa/inet.h>

#include <string>

#include <catch2/catch.hpp>

#include "monitor/user_error.h"

using namespace ctmon;
using namespace ctmon::probe;

namespace {
std::string error_of(std::string_view spec) {
  try {
    (void)parse_probe_plan(spec);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("sides, names and addresses") {
  const ProbeTarget wan = parse_probe_spec("wan:192.0.2.1");
  CHECK(wan.side == ProbeSide::wan);
  CHECK(wan.name.empty());
  CHECK(wan.address.family() == AF_INET);
  CHECK(wan.address.text() == "192.0.2.1");
  CHECK(wan.address.port == 0);
  CHECK(target_label(wan) == "wan");

  const ProbeTarget lan = parse_probe_spec("lan:fd00::1");
  CHECK(lan.side == ProbeSide::lan);
  CHECK(lan.address.family() == AF_INET6);
  CHECK(lan.address.text() == "fd00::1");

  const ProbeTarget google = parse_probe_spec("google=8.8.8.8");
  CHECK(google.side == ProbeSide::wan);
  CHECK(target_label(google) == "wan_google");

  const ProbeTarget nas = parse_probe_spec("nas=lan:192.168.1.5");
  CHECK(nas.side == ProbeSide::lan);
  CHECK(target_label(nas) == "lan_nas");

  CHECK(target_label(parse_probe_spec("isp=wan:192.0.2.9")) == "wan_isp");
}

TEST_CASE("ports, for TCP connect timing") {
  const ProbeTarget v4 = parse_probe_spec("wan:192.0.2.1:443");
  CHECK(v4.address.port == 443);
  CHECK(ntohs(reinterpret_cast<const sockaddr_in&>(v4.address.storage).sin_port) == 443);
  const ProbeTarget v6 = parse_probe_spec("web=[2001:db8::1]:8443");
  CHECK(v6.address.family() == AF_INET6);
  CHECK(v6.address.port == 8443);
  CHECK(v6.address.text() == "2001:db8::1");
  CHECK(parse_probe_spec("lan:[fd00::1]").address.port == 0);
}

TEST_CASE("a plan: auto, off, lists") {
  CHECK(parse_probe_plan("auto").automatic);
  CHECK(parse_probe_plan("").automatic);
  CHECK(parse_probe_plan("off").off);
  CHECK_FALSE(parse_probe_plan("off").automatic);
  const ProbePlan plan = parse_probe_plan("wan:192.0.2.1, lan:10.0.0.1,auto");
  CHECK(plan.automatic);
  CHECK(plan.targets.size() == 2);
  // A UCI list arrives blank-separated.
  CHECK(parse_probe_plan("wan:192.0.2.1 g=8.8.8.8").targets.size() == 2);
  CHECK(probe_targets_problem("wan:192.0.2.1,lan:[::1]:80").empty());
}

TEST_CASE("bad specs are one line naming the spec and the expected form") {
  const auto check_bad = [](std::string_view spec, std::string_view why) {
    const std::string message = error_of(spec);
    INFO(spec << " -> " << message);
    CHECK(message.find(why) != std::string::npos);
    CHECK(message.find("expected wan:ADDR") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  };
  check_bad("wan:example.com", "give an address");
  check_bad("wan:router.lan:443", "give an address");
  check_bad("192.0.2.1", "no side");
  check_bad("dmz:192.0.2.1", "no side");
  check_bad("wan:", "no address");
  check_bad("wan:192.0.2", "not an IPv4 or IPv6 address");
  check_bad("wan:192.0.2.1:0", "port");
  check_bad("wan:192.0.2.1:65536", "port");
  check_bad("wan:192.0.2.1:-1", "port");
  check_bad("wan:[2001:db8::1", "']'");
  check_bad("wan:[2001:db8::1]443", ":PORT");
  check_bad("wan:[192.0.2.1]:1", "not an IPv6 address");
  check_bad("Google=8.8.8.8", "name");
  check_bad("averyveryverylongname=8.8.8.8", "name");
  check_bad("=8.8.8.8", "name");
  check_bad("a_b=8.8.8.8", "name");
  check_bad("x=wan:$(reboot)", "not an IPv4 or IPv6 address");
  check_bad("wan:fe80::1%eth0", "scoped");
}

TEST_CASE("hostile strings stay one printable line") {
  const std::string message = error_of(std::string("wan:1.2.3.4\x1b[2J\x07") + std::string(500, 'A'));
  REQUIRE_FALSE(message.empty());
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK(message.find('\x07') == std::string::npos);
  CHECK(message.size() < 600);
  const std::string nul = error_of(std::string("wan:1.2.3.4\0x", 13));
  CHECK_FALSE(nul.empty());
  CHECK(nul.find('\0') == std::string::npos);
}

TEST_CASE("duplicate targets and off with others are refused") {
  CHECK(error_of("wan:192.0.2.1,wan:192.0.2.2").find("second target named wan") != std::string::npos);
  CHECK(error_of("g=8.8.8.8,g=wan:8.8.4.4").find("wan_g") != std::string::npos);
  CHECK(error_of("g=8.8.8.8,g=lan:10.0.0.1").empty());  // one per side
  CHECK(error_of("off,auto").find("'off' cannot") != std::string::npos);
  CHECK(error_of("off,wan:192.0.2.1").find("'off' cannot") != std::string::npos);
}

TEST_CASE("per_interval is 1 to 20") {
  CHECK(per_interval_problem("1").empty());
  CHECK(per_interval_problem("20").empty());
  CHECK_FALSE(per_interval_problem("0").empty());
  CHECK_FALSE(per_interval_problem("21").empty());
  CHECK_FALSE(per_interval_problem("5x").empty());
  CHECK_FALSE(per_interval_problem("").empty());
  CHECK_FALSE(per_interval_problem("-1").empty());
}

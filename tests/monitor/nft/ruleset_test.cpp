#include "monitor/nft/ruleset.h"

#include <algorithm>

#include <catch2/catch.hpp>

#include "monitor/user_error.h"
#include "rules/embedded_rules.h"

using namespace ctmon::nft;

TEST_CASE("the rules define the 18 counters of the collectd setup, each counted by one rule") {
  const auto& names = expected_counter_names();
  REQUIRE(names.size() == 18);
  for (const std::string_view text :
       {ctmon::rules_text::kconntrack_counter_nft, ctmon::rules_text::kconntrack_counter_inet_nft}) {
    for (const auto& name : names) {
      INFO(name);
      CHECK(text.find("counter " + name + " {}") != std::string_view::npos);
      CHECK(text.find("counter name \"" + name + "\"") != std::string_view::npos);
    }
  }
}

TEST_CASE("the ip rule file matches IPv4 only and the inet one IPv4 and IPv6") {
  const std::string ip = rules_text(parse_table_ref("ip:conntrack_stats"));
  const std::string inet = rules_text(parse_table_ref("inet:conntrack_stats"));
  CHECK(ip.find("table ip conntrack_stats {") != std::string::npos);
  CHECK(ip.find("ip protocol tcp") != std::string::npos);
  CHECK(inet.find("table inet conntrack_stats {") != std::string::npos);
  CHECK(inet.find("meta l4proto tcp") != std::string::npos);
  CHECK(inet.find("ip protocol") == std::string::npos);
}

TEST_CASE("another table name is substituted everywhere the file names its table") {
  const std::string text = rules_text(parse_table_ref("ip:mystats"));
  CHECK(text.find("conntrack_stats") == std::string::npos);
  CHECK(text.find("flush table ip mystats") != std::string::npos);
  CHECK(text.find("table ip mystats {") != std::string::npos);
  // counter names contain "conntrack_" and must survive the substitution
  CHECK(text.find("tcp_conntrack_fwd_new") != std::string::npos);
}

TEST_CASE("families without a rule file are refused with the two that have one") {
  CHECK_THROWS_WITH(rules_text(parse_table_ref("bridge:x")),
                    Catch::Contains("ctmon ships rules for ip (IPv4) and inet (IPv4+IPv6)"));
}

TEST_CASE("the substituted name is one token where the file had conntrack_stats, nothing else") {
  const std::string file(ctmon::rules_text::kconntrack_counter_nft);
  const std::string text = rules_text(parse_table_ref("ip:conntrack_stats_b"));
  std::string back = text;
  for (auto at = back.find("conntrack_stats_b"); at != std::string::npos;
       at = back.find("conntrack_stats_b", at))
    back.replace(at, 17, "conntrack_stats");
  CHECK(back == file);
  CHECK(text.find("table ip conntrack_stats_b {") != std::string::npos);
  CHECK(text.find("flush table ip conntrack_stats_b\n") != std::string::npos);
}

TEST_CASE("the rule file is used unchanged for the default table") {
  CHECK(rules_text(TableRef{}) == ctmon::rules_text::kconntrack_counter_nft);
}

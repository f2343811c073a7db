#include "monitor/nft/table_ref.h"

#include <string>
#include <type_traits>

#include <catch2/catch.hpp>
#include <linux/netfilter.h>

#include "monitor/user_error.h"

using ctmon::nft::parse_table_ref;
using ctmon::nft::TableRef;

// A TableRef is checked by construction: nothing but parse_table_ref makes one from text.
static_assert(!std::is_constructible_v<TableRef, std::string, std::string>);
static_assert(!std::is_constructible_v<TableRef, const char*, const char*>);
static_assert(!std::is_aggregate_v<TableRef>);

TEST_CASE("a table is written family:name, and a bare name means family ip") {
  const TableRef inet = parse_table_ref("inet:conntrack_stats");
  CHECK(inet.family() == "inet");
  CHECK(inet.name() == "conntrack_stats");
  CHECK(inet.nfproto() == NFPROTO_INET);
  CHECK(inet.option_text() == "inet:conntrack_stats");
  CHECK(parse_table_ref("counters") == parse_table_ref("ip:counters"));
  CHECK(parse_table_ref("ip6:t").nfproto() == NFPROTO_IPV6);
  CHECK(TableRef{}.display() == "ip conntrack_stats");
  CHECK(TableRef{}.nfproto() == NFPROTO_IPV4);
  CHECK(parse_table_ref("ip:conntrack_stats") == TableRef{});
}

TEST_CASE("every family nft has a table for is accepted, with its netlink number") {
  CHECK(parse_table_ref("arp:a").nfproto() == NFPROTO_ARP);
  CHECK(parse_table_ref("bridge:b").nfproto() == NFPROTO_BRIDGE);
  CHECK(parse_table_ref("netdev:n").nfproto() == NFPROTO_NETDEV);
}

TEST_CASE("an unknown family is refused with the list of families nft knows") {
  CHECK_THROWS_WITH(parse_table_ref("ipv4:conntrack_stats"),
                    Catch::Contains("unknown family 'ipv4'") &&
                        Catch::Contains("ip, ip6, inet, arp, bridge, netdev"));
  CHECK_THROWS_WITH(parse_table_ref(":x"), Catch::Contains("unknown family ''"));
  CHECK_THROWS_WITH(parse_table_ref("IP:x"), Catch::Contains("unknown family 'IP'"));
  CHECK_THROWS_WITH(parse_table_ref("ip x:y"), Catch::Contains("unknown family 'ip x'"));
}

TEST_CASE("an empty or over-long table name is refused before it reaches the kernel") {
  CHECK_THROWS_WITH(parse_table_ref("ip:"), Catch::Contains("must be 1 to 254 characters"));
  CHECK_THROWS_WITH(parse_table_ref(""), Catch::Contains("must be 1 to 254 characters"));
  CHECK_THROWS_WITH(parse_table_ref("ip:" + std::string(255, 'x')),
                    Catch::Contains("1 to 254 characters"));
  CHECK(parse_table_ref("ip:" + std::string(254, 'x')).name().size() == 254);
}

TEST_CASE("names are nft identifiers: a letter, then letters, digits and underscores") {
  for (const char* good : {"ip:conntrack_stats", "ip:a", "ip:Z9", "inet:x_1_y", "ip:ABC_def"}) {
    INFO(good);
    CHECK_NOTHROW(parse_table_ref(good));
  }
}

TEST_CASE("a name that could carry an nft command is refused, naming the character") {
  struct Case {
    std::string text;
    std::string says;
  };
  const Case cases[] = {
      {"ip:z; flush ruleset; table ip z", "';' at position 2 of the name"},
      {"ip:z\nflush ruleset", "a newline at position 2"},
      {"ip:z\"", "'\"' at position 2"},
      {"ip:z'", "''' at position 2"},
      {"ip:z{", "'{' at position 2"},
      {"ip:z}", "'}' at position 2"},
      {"ip:z x", "a space at position 2"},
      {"ip:z\tx", "a tab at position 2"},
      {"ip:$z", "'$' at position 1"},
      {"ip:z#comment", "'#' at position 2"},
      {"ip:_z", "'_' at position 1"},
      {"ip:1z", "'1' at position 1"},
      {"ip:z.y", "'.' at position 2"},
      {"ip:z/y", "'/' at position 2"},
      {"ip:z-y", "'-' at position 2"},
      {"ip:z:y", "':' at position 2"},
      {"ip:z\\y", "'\\' at position 2"},
      {"ip:t\xc3\xa4" "ble", "byte 0xc3 (not ASCII) at position 2"},
      {std::string("ip:z\0y", 6), "control character 0x00 at position 2"},
      {"ip:z\x1b[2J", "control character 0x1b at position 2"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK_THROWS_AS(parse_table_ref(c.text), ctmon::UserError);
    CHECK_THROWS_WITH(parse_table_ref(c.text),
                      Catch::Contains(c.says) &&
                          Catch::Contains("starts with an ASCII letter and holds only ASCII "
                                          "letters, digits and '_'"));
  }
}

TEST_CASE("the error quotes the bad input on one short line") {
  try {
    (void)parse_table_ref("ip:z\n" + std::string(10'000, 'x'));
    FAIL("accepted");
  } catch (const ctmon::UserError& e) {
    const std::string message = e.what();
    CHECK(message.find('\n') == std::string::npos);
    CHECK_THAT(message, Catch::StartsWith("table 'ip:z\\nxxx"));
    CHECK_THAT(message, Catch::Contains("...'"));
    CHECK(message.size() < 300);
  }
}

TEST_CASE("netlink family numbers are named as nft names them") {
  CHECK(ctmon::nft::family_name(NFPROTO_INET) == "inet");
  CHECK(ctmon::nft::family_name(NFPROTO_IPV4) == "ip");
  CHECK(ctmon::nft::family_name(99) == "family 99");
}

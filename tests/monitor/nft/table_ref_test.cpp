#include "monitor/nft/table_ref.h"

#include <catch2/catch.hpp>
#include <linux/netfilter.h>

#include "monitor/user_error.h"

using ctmon::nft::parse_table_ref;
using ctmon::nft::TableRef;

TEST_CASE("a table is written family:name, and a bare name means family ip") {
  CHECK(parse_table_ref("inet:conntrack_stats") == TableRef{"inet", "conntrack_stats"});
  CHECK(parse_table_ref("counters") == TableRef{"ip", "counters"});
  CHECK(parse_table_ref("ip6:t").nfproto() == NFPROTO_IPV6);
  CHECK(TableRef{}.display() == "ip conntrack_stats");
}

TEST_CASE("an unknown family is refused with the list of families nft knows") {
  CHECK_THROWS_WITH(parse_table_ref("ipv4:conntrack_stats"),
                    Catch::Contains("unknown family 'ipv4'") &&
                        Catch::Contains("ip, ip6, inet, arp, bridge, netdev"));
}

TEST_CASE("an empty or over-long table name is refused before it reaches the kernel") {
  CHECK_THROWS_AS(parse_table_ref("ip:"), ctmon::UserError);
  CHECK_THROWS_WITH(parse_table_ref("ip:" + std::string(300, 'x')),
                    Catch::Contains("1 to 254 characters"));
}

TEST_CASE("netlink family numbers are named as nft names them") {
  CHECK(ctmon::nft::family_name(NFPROTO_INET) == "inet");
  CHECK(ctmon::nft::family_name(NFPROTO_IPV4) == "ip");
  CHECK(ctmon::nft::family_name(99) == "family 99");
}

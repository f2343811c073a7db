#include "monitor/nft/nft_error.h"

#include <cerrno>

#include <catch2/catch.hpp>

using namespace ctmon::nft;

TEST_CASE("EPERM says CAP_NET_ADMIN is needed and how to grant it") {
  const NftError e = error_from_errno(EPERM, TableRef{}, "reading the counters of");
  CHECK(e.kind() == NftErrorKind::kNoPermission);
  CHECK_THAT(e.what(), Catch::Contains("needs CAP_NET_ADMIN") &&
                           Catch::Contains("setcap cap_net_admin+ep") &&
                           Catch::Contains("AmbientCapabilities=CAP_NET_ADMIN"));
}

TEST_CASE("EINVAL from nfnetlink means the kernel has no nf_tables") {
  const NftError e = error_from_errno(EINVAL, TableRef{}, "reading the counters of");
  CHECK(e.kind() == NftErrorKind::kNfTablesAbsent);
  CHECK_THAT(e.what(), Catch::Contains("modprobe nf_tables") && Catch::Contains("kmod-nft-core"));
}

TEST_CASE("ENOBUFS is reported as a netlink buffer overrun") {
  const NftError e = error_from_errno(ENOBUFS, TableRef{}, "reading the counters of");
  CHECK(e.kind() == NftErrorKind::kBufferOverrun);
  CHECK_THAT(e.what(), Catch::Contains("receive buffer overran"));
}

TEST_CASE("a missing table names the command that creates it") {
  SECTION("the default table needs no --table") {
    const NftError e = table_missing_error(TableRef{}, "");
    CHECK(e.kind() == NftErrorKind::kTableMissing);
    CHECK(std::string(e.what()) ==
          "table ip conntrack_stats does not exist: create it with 'ctmon rules install'");
  }
  SECTION("another table is named in the command") {
    const NftError e = table_missing_error(parse_table_ref("inet:stats"), "");
    CHECK_THAT(e.what(), Catch::EndsWith("'ctmon rules install --table inet:stats'"));
  }
  SECTION("a table of that name in another family is suggested") {
    const NftError e = table_missing_error(parse_table_ref("inet:conntrack_stats"), "ip");
    CHECK_THAT(e.what(), Catch::EndsWith("did you mean --table ip:conntrack_stats?"));
  }
}

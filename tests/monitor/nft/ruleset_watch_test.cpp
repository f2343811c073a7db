#include "monitor/nft/ruleset_watch.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

using ctmon::nft::parse_table_ref;
using ctmon::nft::TableRef;
using ctmon::nft::touches_table;

namespace {

// A datagram as the kernel multicasts it: netlink messages one after another, each an nfgenmsg
// and its attributes.
class Datagram {
 public:
  Datagram() : buffer_(8192) {}

  /// Appends a message; `table` (attribute 1, the table's name in table, chain and rule
  /// messages) is left out when null.
  Datagram& add(std::uint16_t type, std::uint8_t family, const char* table,
                std::uint16_t subsystem = NFNL_SUBSYS_NFTABLES) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer_.data() + size_);
    nlh->nlmsg_type = static_cast<std::uint16_t>((subsystem << 8) | type);
    auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    header->nfgen_family = family;
    header->version = NFNETLINK_V0;
    if (table != nullptr) mnl_attr_put_strz(nlh, 1, table);
    mnl_attr_put_u64(nlh, 2, 42);  // another attribute after the name, as the kernel's have
    size_ += nlh->nlmsg_len;
    return *this;
  }

  [[nodiscard]] bool touches(const TableRef& table) const {
    return touches_table(buffer_.data(), size_, table);
  }
  [[nodiscard]] const char* data() const { return buffer_.data(); }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] char* data() { return buffer_.data(); }

 private:
  std::vector<char> buffer_;
  std::size_t size_ = 0;
};

}  // namespace

TEST_CASE("ruleset notifications: rules, chains and the table itself count") {
  const TableRef ours;  // ip conntrack_stats
  for (const std::uint16_t type : {NFT_MSG_NEWRULE, NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN,
                                   NFT_MSG_DELCHAIN, NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE}) {
    CAPTURE(type);
    CHECK(Datagram().add(type, NFPROTO_IPV4, "conntrack_stats").touches(ours));
  }
}

TEST_CASE("ruleset notifications: other tables, families and objects do not count") {
  const TableRef ours;
  CHECK_FALSE(Datagram().add(NFT_MSG_DELRULE, NFPROTO_IPV4, "fw4").touches(ours));
  CHECK_FALSE(Datagram().add(NFT_MSG_DELRULE, NFPROTO_IPV4, "conntrack_stats2").touches(ours));
  CHECK_FALSE(Datagram().add(NFT_MSG_DELRULE, NFPROTO_IPV4, "conntrack").touches(ours));
  CHECK_FALSE(Datagram().add(NFT_MSG_DELRULE, NFPROTO_INET, "conntrack_stats").touches(ours));
  CHECK(Datagram()
            .add(NFT_MSG_DELRULE, NFPROTO_INET, "conntrack_stats")
            .touches(parse_table_ref("inet:conntrack_stats")));
  // Set elements and counters change without changing what counts.
  CHECK_FALSE(Datagram().add(NFT_MSG_NEWSETELEM, NFPROTO_IPV4, "conntrack_stats").touches(ours));
  CHECK_FALSE(Datagram().add(NFT_MSG_NEWOBJ, NFPROTO_IPV4, "conntrack_stats").touches(ours));
  CHECK_FALSE(Datagram().add(NFT_MSG_NEWGEN, NFPROTO_UNSPEC, nullptr).touches(ours));
  // Another nfnetlink subsystem whose message numbers overlap nf_tables'.
  CHECK_FALSE(Datagram()
                  .add(NFT_MSG_DELRULE, NFPROTO_IPV4, "conntrack_stats", NFNL_SUBSYS_CTNETLINK)
                  .touches(ours));
}

TEST_CASE("ruleset notifications: every message of a datagram is read") {
  const TableRef ours;
  Datagram batch;
  batch.add(NFT_MSG_NEWRULE, NFPROTO_IPV4, "fw4")
      .add(NFT_MSG_NEWSETELEM, NFPROTO_IPV4, "conntrack_stats")
      .add(NFT_MSG_DELCHAIN, NFPROTO_IPV4, "conntrack_stats");
  CHECK(batch.touches(ours));
  CHECK_FALSE(Datagram().touches(ours));
}

TEST_CASE("ruleset notifications: a short or malformed message is not read past its end") {
  const TableRef ours;
  Datagram whole;
  whole.add(NFT_MSG_DELRULE, NFPROTO_IPV4, "conntrack_stats");
  for (std::size_t size = 0; size < whole.size(); ++size) {
    CAPTURE(size);
    CHECK_FALSE(touches_table(whole.data(), size, ours));
  }
  // A name without its terminating NUL.
  Datagram unterminated;
  unterminated.add(NFT_MSG_DELRULE, NFPROTO_IPV4, "conntrack_stats");
  char* name = unterminated.data() + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg)) + MNL_ATTR_HDRLEN;
  REQUIRE(std::strcmp(name, "conntrack_stats") == 0);
  name[std::strlen("conntrack_stats")] = 'x';
  CHECK_FALSE(unterminated.touches(ours));
  // No table name at all.
  CHECK_FALSE(Datagram().add(NFT_MSG_DELRULE, NFPROTO_IPV4, nullptr).touches(ours));
}

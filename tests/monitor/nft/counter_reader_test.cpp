// parse_counter_message on messages built the way the kernel lays out a counter dump; the
// malformed ones are what tests/fuzz/netlink_counter_fuzz.cpp found or could find.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include <arpa/inet.h>
#include <endian.h>

#include <libmnl/libmnl.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "monitor/nft/counter_reader.h"

namespace ctmon::nft {
namespace {

struct ObjectFree {
  void operator()(nftnl_obj* object) const { nftnl_obj_free(object); }
};

enum class Field { name, type_counter, type_quota };

// One NFT_MSG_NEWOBJ message in `buffer` with the fields asked for.
const nlmsghdr* build(std::vector<char>& buffer, std::initializer_list<Field> fields) {
  buffer.assign(4096, 0);
  const std::unique_ptr<nftnl_obj, ObjectFree> object(nftnl_obj_alloc());
  REQUIRE(object);
  nftnl_obj_set_str(object.get(), NFTNL_OBJ_TABLE, "conntrack_stats");
  for (const Field field : fields) {
    if (field == Field::name) nftnl_obj_set_str(object.get(), NFTNL_OBJ_NAME, "tcp_conntrack_fwd_new");
    if (field == Field::type_counter) {
      nftnl_obj_set_u32(object.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
      nftnl_obj_set_u64(object.get(), NFTNL_OBJ_CTR_PKTS, 1234);
      nftnl_obj_set_u64(object.get(), NFTNL_OBJ_CTR_BYTES, 98765);
    }
    if (field == Field::type_quota) {
      nftnl_obj_set_u32(object.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_QUOTA);
      nftnl_obj_set_u64(object.get(), NFTNL_OBJ_QUOTA_BYTES, 5000);
    }
  }
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_NEWOBJ, NFPROTO_IPV4, 0, 1);
  nftnl_obj_nlmsg_build_payload(nlh, object.get());
  return nlh;
}

}  // namespace

TEST_CASE("a counter object gives its name, packets and bytes") {
  std::vector<char> buffer;
  CounterReading reading;
  REQUIRE(parse_counter_message(build(buffer, {Field::name, Field::type_counter}), reading));
  CHECK(reading.name == "tcp_conntrack_fwd_new");
  CHECK(reading.packets == 1234);
  CHECK(reading.bytes == 98765);
}

TEST_CASE("an object without a name is a protocol error, not a crash") {
  std::vector<char> buffer;
  CounterReading reading;
  errno = 0;
  CHECK_FALSE(parse_counter_message(build(buffer, {Field::type_counter}), reading));
  CHECK(errno == EPROTO);
}

TEST_CASE("an object of another type or of none is not read as a counter") {
  std::vector<char> buffer;
  CounterReading reading;
  CHECK_FALSE(parse_counter_message(build(buffer, {Field::name, Field::type_quota}), reading));
  CHECK_FALSE(parse_counter_message(build(buffer, {Field::name}), reading));
}

TEST_CASE("a counter whose packets attribute has the wrong size is refused, and the process lives") {
  // libnftnl's own parser calls exit() on this message ("kernel ABI is broken").
  std::vector<char> buffer(4096, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ;
  auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  header->nfgen_family = NFPROTO_IPV4;
  mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, "conntrack_stats");
  mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, "tcp_conntrack_fwd_new");
  mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
  nlattr* data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
  mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(98765));
  mnl_attr_put_u32(nlh, NFTA_COUNTER_PACKETS, htonl(1234));
  mnl_attr_nest_end(nlh, data);
  CounterReading reading;
  errno = 0;
  CHECK_FALSE(parse_counter_message(nlh, reading));
  CHECK(errno == EPROTO);
}

TEST_CASE("a message too short for its own header is refused") {
  std::vector<char> buffer;
  const nlmsghdr* full = build(buffer, {Field::name, Field::type_counter});
  std::vector<char> cut(buffer.begin(), buffer.begin() + static_cast<long>(sizeof(nlmsghdr)));
  reinterpret_cast<nlmsghdr*>(cut.data())->nlmsg_len = sizeof(nlmsghdr);
  CounterReading reading;
  CHECK_FALSE(parse_counter_message(reinterpret_cast<const nlmsghdr*>(cut.data()), reading));
  CHECK(parse_counter_message(full, reading));
}

}  // namespace ctmon::nft

#include "monitor/nft/counter_reader.h"

#include <arpa/inet.h>
#include <endian.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>

#include <libnftnl/object.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "monitor/nft/nft_error.h"

namespace ctmon::nft {
namespace {

struct ObjectFree {
  void operator()(nftnl_obj* object) const { nftnl_obj_free(object); }
};
using ObjectPtr = std::unique_ptr<nftnl_obj, ObjectFree>;

struct TableFree {
  void operator()(nftnl_table* table) const { nftnl_table_free(table); }
};
using TablePtr = std::unique_ptr<nftnl_table, TableFree>;

template <class T, class Deleter>
std::unique_ptr<T, Deleter> checked(T* allocated) {
  if (allocated == nullptr) throw std::bad_alloc();
  return std::unique_ptr<T, Deleter>(allocated);
}

}  // namespace

namespace {

// The attributes of one nesting level whose type is at most `max`, by type.
struct AttributeTable {
  const nlattr** by_type;
  unsigned max;
};

int collect_attribute(const nlattr* attr, void* data) {
  const auto& table = *static_cast<AttributeTable*>(data);
  if (mnl_attr_type_valid(attr, static_cast<std::uint16_t>(table.max)) > 0)
    table.by_type[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

const nlattr* validated(const nlattr* attr, mnl_attr_data_type kind) {
  return attr != nullptr && mnl_attr_validate(attr, kind) == 0 ? attr : nullptr;
}

bool protocol_error() {
  errno = EPROTO;
  return false;
}

}  // namespace

bool parse_counter_message(const nlmsghdr* message, CounterReading& out) {
  // libmnl's validating walkers rather than nftnl_obj_nlmsg_parse: libnftnl calls exit() ("kernel
  // ABI is broken") on an attribute it cannot validate, which would end the daemon without
  // saving the samples it holds, and it returns a null name for a message without one.
  if (message->nlmsg_len < mnl_nlmsg_size(sizeof(nfgenmsg))) return protocol_error();
  std::array<const nlattr*, NFTA_OBJ_MAX + 1> object{};
  AttributeTable object_table{object.data(), NFTA_OBJ_MAX};
  if (mnl_attr_parse(message, sizeof(nfgenmsg), collect_attribute, &object_table) < 0)
    return protocol_error();
  const nlattr* name = validated(object[NFTA_OBJ_NAME], MNL_TYPE_NUL_STRING);
  const nlattr* type = validated(object[NFTA_OBJ_TYPE], MNL_TYPE_U32);
  const nlattr* data = validated(object[NFTA_OBJ_DATA], MNL_TYPE_NESTED);
  if (name == nullptr || type == nullptr || data == nullptr ||
      ntohl(mnl_attr_get_u32(type)) != NFT_OBJECT_COUNTER)
    return protocol_error();
  std::array<const nlattr*, NFTA_COUNTER_MAX + 1> counter{};
  AttributeTable counter_table{counter.data(), NFTA_COUNTER_MAX};
  if (mnl_attr_parse_nested(data, collect_attribute, &counter_table) < 0) return protocol_error();
  const nlattr* packets = validated(counter[NFTA_COUNTER_PACKETS], MNL_TYPE_U64);
  const nlattr* bytes = validated(counter[NFTA_COUNTER_BYTES], MNL_TYPE_U64);
  if (packets == nullptr || bytes == nullptr) return protocol_error();
  out.name.assign(mnl_attr_get_str(name));
  out.packets = be64toh(mnl_attr_get_u64(packets));
  out.bytes = be64toh(mnl_attr_get_u64(bytes));
  return true;
}

CounterReader::CounterReader(TableRef table)
    : table_(std::move(table)), nfproto_(table_.nfproto()) {}

void CounterReader::read(std::vector<CounterReading>& out) {
  std::size_t count = 0;
  const std::uint32_t seq = socket_.next_seq();
  {
    // The kernel filters the dump by table and by object type, so the reply holds exactly the
    // counters we want and nothing else crosses the socket.
    auto filter = checked<nftnl_obj, ObjectFree>(nftnl_obj_alloc());
    nftnl_obj_set_str(filter.get(), NFTNL_OBJ_TABLE, table_.name().c_str());
    nftnl_obj_set_u32(filter.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket_.request_buffer(), NFT_MSG_GETOBJ, nfproto_,
                                          NLM_F_DUMP, seq);
    nftnl_obj_nlmsg_build_payload(nlh, filter.get());

    const int err = socket_.request(nlh, seq, [&](const nlmsghdr* reply) {
      if (count == out.size()) out.emplace_back();
      if (!parse_counter_message(reply, out[count])) return MNL_CB_ERROR;
      ++count;
      return MNL_CB_OK;
    });
    if (err != 0) {
      out.resize(0);
      throw error_from_errno(err, table_, "reading the counters of");
    }
  }
  out.resize(count);
  // A missing table is not an error to the kernel: the dump is just empty. Only then is it worth
  // a second request to tell "no table" from "a table without counters".
  if (count == 0 && !table_exists()) throw table_missing_error(table_, other_families_with_table());
}

bool CounterReader::table_exists() {
  auto request = checked<nftnl_table, TableFree>(nftnl_table_alloc());
  nftnl_table_set_str(request.get(), NFTNL_TABLE_NAME, table_.name().c_str());
  const std::uint32_t seq = socket_.next_seq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket_.request_buffer(), NFT_MSG_GETTABLE, nfproto_,
                                        NLM_F_ACK, seq);
  nftnl_table_nlmsg_build_payload(nlh, request.get());
  const int err = socket_.request(nlh, seq, [](const nlmsghdr*) { return MNL_CB_OK; });
  if (err == ENOENT) return false;
  if (err != 0) throw error_from_errno(err, table_, "looking up");
  return true;
}

std::string CounterReader::other_families_with_table() {
  std::string families;
  const std::uint32_t seq = socket_.next_seq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket_.request_buffer(), NFT_MSG_GETTABLE,
                                        NFPROTO_UNSPEC, NLM_F_DUMP, seq);
  const int err = socket_.request(nlh, seq, [&](const nlmsghdr* reply) {
    TablePtr table(nftnl_table_alloc());
    if (!table || nftnl_table_nlmsg_parse(reply, table.get()) < 0) return MNL_CB_OK;
    const auto family = static_cast<std::uint8_t>(nftnl_table_get_u32(table.get(),
                                                                      NFTNL_TABLE_FAMILY));
    if (family != nfproto_ && table_.name() == nftnl_table_get_str(table.get(), NFTNL_TABLE_NAME)) {
      if (!families.empty()) families += ',';
      families += family_name(family);
    }
    return MNL_CB_OK;
  });
  return err == 0 ? families : std::string();  // only a hint: never fail the caller over it
}

}  // namespace ctmon::nft

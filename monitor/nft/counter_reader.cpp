#include "monitor/nft/counter_reader.h"

#include <cerrno>
#include <memory>

#include <libnftnl/object.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

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

bool parse_counter_message(const nlmsghdr* message, CounterReading& out) {
  // nftnl_obj_nlmsg_parse leaks strings when reused, so each object gets a fresh one.
  ObjectPtr object(nftnl_obj_alloc());
  if (!object) {
    errno = ENOMEM;
    return false;
  }
  // A message without a name or of another object type has nothing to read: libnftnl would
  // hand back a null name or another type's fields.
  if (nftnl_obj_nlmsg_parse(message, object.get()) < 0 ||
      !nftnl_obj_is_set(object.get(), NFTNL_OBJ_NAME) ||
      !nftnl_obj_is_set(object.get(), NFTNL_OBJ_TYPE) ||
      nftnl_obj_get_u32(object.get(), NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER) {
    errno = EPROTO;
    return false;
  }
  out.name.assign(nftnl_obj_get_str(object.get(), NFTNL_OBJ_NAME));
  out.packets = nftnl_obj_get_u64(object.get(), NFTNL_OBJ_CTR_PKTS);
  out.bytes = nftnl_obj_get_u64(object.get(), NFTNL_OBJ_CTR_BYTES);
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

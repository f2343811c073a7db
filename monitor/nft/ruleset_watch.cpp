#include "monitor/nft/ruleset_watch.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <utility>

#include <sys/socket.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "monitor/nft/nft_error.h"

namespace ctmon::nft {
namespace {

// The table's name is attribute 1 of every message about a table, a chain or a rule.
static_assert(NFTA_TABLE_NAME == 1 && NFTA_CHAIN_TABLE == 1 && NFTA_RULE_TABLE == 1);
constexpr std::uint16_t kTableNameAttribute = 1;

// One notification is built in one NLMSG_GOODSIZE buffer (at most 8 KiB); a longer datagram is
// noticed (MSG_TRUNC) and counts as a change.
constexpr std::size_t kBufferBytes = 8192;
// A firewall reload queues hundreds of notifications; the rest waits for the next pump, so a
// pump stays short.
constexpr int kMaxDatagramsPerDrain = 64;

bool about_tables_chains_or_rules(std::uint16_t nlmsg_type) {
  if (NFNL_SUBSYS_ID(nlmsg_type) != NFNL_SUBSYS_NFTABLES) return false;
  switch (NFNL_MSG_TYPE(nlmsg_type)) {
    case NFT_MSG_NEWTABLE:
    case NFT_MSG_DELTABLE:
    case NFT_MSG_NEWCHAIN:
    case NFT_MSG_DELCHAIN:
    case NFT_MSG_NEWRULE:
    case NFT_MSG_DELRULE: return true;
    default: return false;
  }
}

bool message_touches(const nlmsghdr* nlh, const TableRef& table) {
  if (!about_tables_chains_or_rules(nlh->nlmsg_type)) return false;
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nfgenmsg)) return false;
  const auto* header = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  if (header->nfgen_family != table.nfproto()) return false;
  const char* const tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) != kTableNameAttribute) continue;
    if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return false;
    return table.name() == mnl_attr_get_str(attr);
  }
  return false;
}

}  // namespace

bool touches_table(const void* datagram, std::size_t size, const TableRef& table) {
  int left = static_cast<int>(std::min<std::size_t>(size, std::numeric_limits<int>::max()));
  for (const auto* nlh = static_cast<const nlmsghdr*>(datagram); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left))
    if (message_touches(nlh, table)) return true;
  return false;
}

RulesetWatch::RulesetWatch(TableRef table) : table_(std::move(table)), buffer_(kBufferBytes) {
  socket_.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!socket_) throw error_from_errno(errno, table_, "watching the rules of");
  if (mnl_socket_bind(socket_.get(), 1U << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0)
    throw error_from_errno(errno, table_, "watching the rules of");
}

int RulesetWatch::fd() const { return mnl_socket_get_fd(socket_.get()); }

bool RulesetWatch::drain() {
  bool changed = false;
  for (int i = 0; i < kMaxDatagramsPerDrain; ++i) {
    const ssize_t received = recv(fd(), buffer_.data(), buffer_.size(), MSG_TRUNC);
    if (received < 0) {
      if (errno == ENOBUFS) {  // notifications were dropped: any of them may have been ours
        changed = true;
        continue;
      }
      break;  // EAGAIN: nothing more waits
    }
    const auto size = static_cast<std::size_t>(received);
    changed = changed || size > buffer_.size() || touches_table(buffer_.data(), size, table_);
  }
  return changed;
}

}  // namespace ctmon::nft

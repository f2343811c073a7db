#include "monitor/conntrack/conntrack_stats.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace ctmon::conntrack {
namespace {

// The ctnetlink ABI, spelled out rather than taken from <linux/netfilter/nfnetlink_conntrack.h>:
// the headers of an older toolchain (OpenWrt's) lack the newest attributes, and the numbers
// never change once a kernel has shipped them.
constexpr std::uint16_t kSubsysCtnetlink = 1;  // NFNL_SUBSYS_CTNETLINK
constexpr std::uint16_t kMsgGetStatsCpu = 4;   // IPCTNL_MSG_CT_GET_STATS_CPU
constexpr std::uint16_t kMsgGetStats = 5;      // IPCTNL_MSG_CT_GET_STATS
constexpr std::uint16_t kGlobalEntries = 1;    // CTA_STATS_GLOBAL_ENTRIES
constexpr std::uint16_t kGlobalMaxEntries = 2; // CTA_STATS_GLOBAL_MAX_ENTRIES
// CTA_STATS_* of each Stat, in Stat's order.
constexpr std::array<std::uint16_t, kStatCount> kStatAttribute = {
    2,   // CTA_STATS_FOUND
    4,   // CTA_STATS_INVALID
    8,   // CTA_STATS_INSERT
    9,   // CTA_STATS_INSERT_FAILED
    10,  // CTA_STATS_DROP
    11,  // CTA_STATS_EARLY_DROP
    12,  // CTA_STATS_ERROR
    13,  // CTA_STATS_SEARCH_RESTART
    14,  // CTA_STATS_CLASH_RESOLVE
    15,  // CTA_STATS_CHAIN_TOOLONG
};
constexpr std::uint16_t kMaxAttribute = 15;
constexpr std::array<std::string_view, kStatCount> kStatNames = {
    "found", "invalid", "insert", "insert_failed", "drop", "early_drop",
    "error", "search_restart", "clash_resolve", "chain_toolong"};

constexpr std::uint16_t message_type(Request request) {
  return static_cast<std::uint16_t>((kSubsysCtnetlink << 8) |
                                    (request == Request::global ? kMsgGetStats : kMsgGetStatsCpu));
}

// The big-endian u32 attributes of one message (payload after its nfgenmsg), by type; an
// attribute of another size is a protocol error.
bool collect_u32s(const nlmsghdr* message, std::array<std::optional<std::uint32_t>, kMaxAttribute + 1>& out) {
  const std::size_t payload_offset = MNL_ALIGN(sizeof(nfgenmsg));
  bool ok = true;
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, payload_offset));
  int left = static_cast<int>(message->nlmsg_len) - static_cast<int>(MNL_NLMSG_HDRLEN + payload_offset);
  for (; mnl_attr_ok(attr, left); attr = mnl_attr_next(attr)) {
    left -= static_cast<int>(MNL_ALIGN(attr->nla_len));
    const std::uint16_t type = mnl_attr_get_type(attr);
    if (type > kMaxAttribute) continue;  // a newer kernel's statistic: not ours to read
    if (mnl_attr_get_payload_len(attr) != sizeof(std::uint32_t)) {
      ok = false;
      continue;
    }
    std::uint32_t value = 0;
    std::memcpy(&value, mnl_attr_get_payload(attr), sizeof(value));
    out[type] = ntohl(value);
  }
  // Bytes left that do not make an attribute: the message was cut or an attribute is bad.
  return ok && left <= 0;
}

ReplyStep fail(int error) { return {ReplyStep::kError, error}; }

}  // namespace

std::string_view to_string(Stat stat) { return kStatNames[static_cast<std::size_t>(stat)]; }

std::optional<std::uint64_t> ConntrackStats::sum(Stat stat) const {
  std::optional<std::uint64_t> total;
  for (const CpuStats& cpu : cpus)
    if (const auto& value = cpu.values[static_cast<std::size_t>(stat)])
      total = total.value_or(0) + *value;
  return total;
}

void CumulativeStats::add(const ConntrackStats& reading) {
  // A wrap goes from the top quarter of the range to the bottom one; anything else that falls
  // is a restart from zero.
  constexpr std::uint32_t kQuarter = 1U << 30;
  for (const CpuStats& cpu : reading.cpus) {
    if (cpu.cpu >= last_by_cpu_.size()) last_by_cpu_.resize(cpu.cpu + 1U);
    auto& last = last_by_cpu_[cpu.cpu];
    for (std::size_t k = 0; k < kStatCount; ++k) {
      const std::optional<std::uint32_t>& value = cpu.values[k];
      if (!value) continue;
      std::uint64_t change = *value;
      if (last[k]) {
        const bool wrapped = *value < *last[k] && *last[k] >= 3 * kQuarter && *value < kQuarter;
        if (*value >= *last[k] || wrapped) change = static_cast<std::uint32_t>(*value - *last[k]);
      }
      last[k] = value;
      totals_[k] = totals_[k].value_or(0) + change;
    }
  }
}

std::optional<std::uint64_t> CumulativeStats::total(Stat stat) const {
  return totals_[static_cast<std::size_t>(stat)];
}

nlmsghdr* build_request(void* buffer, Request request, std::uint32_t seq) {
  std::memset(buffer, 0, kRequestBytes);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = message_type(request);
  header->nlmsg_flags = NLM_F_REQUEST | (request == Request::per_cpu ? NLM_F_DUMP : 0);
  header->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return header;
}

ReplyStep parse_reply_datagram(const void* data, std::size_t size, Request request,
                               std::uint32_t seq, std::uint32_t port_id, ConntrackStats& out) {
  // Our own walk rather than mnl_cb_run: libmnl compares nlmsg_len as a signed int (a length of
  // 2^31 passes) and names a stale reply EPROTO like a malformed one.
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::size_t left = size;
  // libmnl reads attributes in place: a datagram must start aligned, as recvfrom's buffer does
  // (and every message after it is, padded to 4 bytes).
  if (left == 0 || reinterpret_cast<std::uintptr_t>(data) % alignof(nlmsghdr) != 0) return fail(EPROTO);
  while (left > 0) {
    if (left < sizeof(nlmsghdr)) return fail(EPROTO);
    nlmsghdr header{};
    std::memcpy(&header, bytes, sizeof(header));
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > left) return fail(EPROTO);
    if ((port_id != 0 && header.nlmsg_pid != 0 && header.nlmsg_pid != port_id) ||
        (seq != 0 && header.nlmsg_seq != 0 && header.nlmsg_seq != seq))
      return fail(ESRCH);
    if ((header.nlmsg_flags & NLM_F_DUMP_INTR) != 0) return fail(EINTR);
    const auto* message = reinterpret_cast<const nlmsghdr*>(bytes);
    switch (header.nlmsg_type) {
      case NLMSG_NOOP: break;
      case NLMSG_DONE: return {ReplyStep::kDone, 0};
      case NLMSG_OVERRUN: return fail(ENOBUFS);
      case NLMSG_ERROR: {
        if (header.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return fail(EPROTO);
        std::int32_t error = 0;
        std::memcpy(&error, bytes + NLMSG_HDRLEN + offsetof(nlmsgerr, error), sizeof(error));
        if (error == 0) return {ReplyStep::kDone, 0};  // an acknowledgement
        // The kernel sends -errno; anything else is not an errno.
        if (error > 0 || error < -4095) return fail(EPROTO);
        return fail(-error);
      }
      default: {
        if (header.nlmsg_type != message_type(request)) return fail(EPROTO);
        if (header.nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return fail(EPROTO);
        std::array<std::optional<std::uint32_t>, kMaxAttribute + 1> attributes{};
        if (!collect_u32s(message, attributes)) return fail(EPROTO);
        if (request == Request::global) {
          if (attributes[kGlobalEntries]) out.entries = attributes[kGlobalEntries];
          if (attributes[kGlobalMaxEntries]) out.limit = attributes[kGlobalMaxEntries];
          // One message is the whole answer (no NLMSG_DONE follows, whatever its flags say).
          return {ReplyStep::kDone, 0};
        }
        nfgenmsg nfg{};
        std::memcpy(&nfg, bytes + NLMSG_HDRLEN, sizeof(nfg));
        CpuStats& cpu = out.cpus.emplace_back();
        cpu.cpu = ntohs(nfg.res_id);
        for (std::size_t k = 0; k < kStatCount; ++k) cpu.values[k] = attributes[kStatAttribute[k]];
        break;
      }
    }
    const std::size_t step = NLMSG_ALIGN(header.nlmsg_len);
    if (step >= left) break;
    bytes += step;
    left -= step;
  }
  return {ReplyStep::kMore, 0};
}

}  // namespace ctmon::conntrack

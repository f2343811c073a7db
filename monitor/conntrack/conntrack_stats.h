#pragma once
// The conntrack table's health as the kernel's ctnetlink reports it, without a socket: the
// requests to send and the parser of the replies, so that the parser is tested on recorded
// kernel messages (tests/monitor/conntrack/) and fuzzed (tests/fuzz/conntrack_stats_fuzz.cpp).
//
// Two requests make one reading, the two halves of what `conntrack -C` and `conntrack -S` print:
//   IPCTNL_MSG_CT_GET_STATS      one message: the entries in the table and the table's maximum
//                                (CTA_STATS_GLOBAL_ENTRIES, _MAX_ENTRIES; older kernels
//                                send no maximum), and nothing after it;
//   IPCTNL_MSG_CT_GET_STATS_CPU  a dump: one message per possible CPU (its number in the
//                                nfgenmsg's res_id) with that CPU's statistics, NLMSG_DONE last.
// Both are per network namespace: the namespace of the socket. Not /proc/net/stat/nf_conntrack:
// CONFIG_NF_CONNTRACK_PROCFS is off on recent kernels and on OpenWrt.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

struct nlmsghdr;

namespace ctmon::conntrack {

/// The per-CPU statistics a kernel may report, in CTA_STATS_* order. Those that `conntrack -S`
/// prints; the ones marked "no longer used" in nfnetlink_conntrack.h are left out.
enum class Stat : std::uint8_t {
  found,
  invalid,
  insert,
  insert_failed,
  drop,
  early_drop,
  error,
  search_restart,
  clash_resolve,   ///< newer kernels only
  chain_toolong,   ///< newer kernels only
};
inline constexpr std::size_t kStatCount = 10;

/// "insert_failed": the kernel's name in lower case, as `conntrack -S` prints it and as the
/// counter conntrack_stat_<name> is named (docs/measurements.md).
[[nodiscard]] std::string_view to_string(Stat stat);

/// One CPU's statistics; a statistic the kernel did not send is absent. The kernel sends u32s.
struct CpuStats {
  std::uint16_t cpu = 0;
  std::array<std::optional<std::uint32_t>, kStatCount> values{};
};

/// One reading: what each request's reply held.
struct ConntrackStats {
  std::optional<std::uint32_t> entries;  ///< conntrack -C
  std::optional<std::uint32_t> limit;    ///< net.netfilter.nf_conntrack_max
  std::vector<CpuStats> cpus;            ///< in the order the kernel sent them

  /// `stat` summed over the CPUs that reported it; nullopt when none did.
  [[nodiscard]] std::optional<std::uint64_t> sum(Stat stat) const;
  void clear() {
    entries.reset();
    limit.reset();
    cpus.clear();
  }
};

enum class Request : std::uint8_t { global, per_cpu };

/// Builds `request` into `buffer` (at least kRequestBytes, aligned for nlmsghdr) with sequence
/// number `seq`; returns its header (nlmsg_len is its size).
inline constexpr std::size_t kRequestBytes = 64;
nlmsghdr* build_request(void* buffer, Request request, std::uint32_t seq);

/// What one datagram of a reply said.
struct ReplyStep {
  enum Outcome : std::uint8_t {
    kMore,   ///< parsed; the reply goes on in the next datagram
    kDone,   ///< the reply is complete (the acknowledgement, or NLMSG_DONE of the dump)
    kError,  ///< the kernel refused (NLMSG_ERROR) or the bytes are not a reply: see `error`
  } outcome = kMore;
  /// With kError: the kernel's errno (EPERM: no CAP_NET_ADMIN; EOPNOTSUPP, ENOENT: no ctnetlink,
  /// nf_conntrack(_netlink) not loaded) or EPROTO for bytes no kernel sends, ESRCH for a reply
  /// to another request (a stale sequence number or port).
  int error = 0;
};

/// Parses one received datagram of the reply to `request` (sent with `seq`, from port `port_id`;
/// 0 and 0 check neither) into `out`, adding to what earlier datagrams of the same reply put
/// there. Never reads outside `[data, data + size)`, never exits, never throws (but bad_alloc).
[[nodiscard]] ReplyStep parse_reply_datagram(const void* data, std::size_t size, Request request,
                                             std::uint32_t seq, std::uint32_t port_id,
                                             ConntrackStats& out);

/// The statistics as cumulative 64-bit totals across readings, for counters: the kernel keeps
/// one u32 per CPU, which wraps (at 1,000 invalid packets a second, after 50 days), so a sum of
/// the CPUs' values would fall back. Each CPU's change since the previous reading is added
/// instead, modulo 2^32. A value that falls far from the top of the range is a restart
/// (nf_conntrack reloaded, which zeroes every CPU), not a wrap: it counts from zero again.
class CumulativeStats {
 public:
  void add(const ConntrackStats& reading);
  /// Since the first reading that reported `stat` (which counts its whole value); nullopt when
  /// none did.
  [[nodiscard]] std::optional<std::uint64_t> total(Stat stat) const;

 private:
  std::array<std::optional<std::uint64_t>, kStatCount> totals_{};
  std::vector<std::array<std::optional<std::uint32_t>, kStatCount>> last_by_cpu_;
};

}  // namespace ctmon::conntrack

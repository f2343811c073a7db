#pragma once
// Reads the conntrack table's health from the kernel (conntrack_stats.h) over one
// NETLINK_NETFILTER socket, opened at the first reading and kept. Non-blocking: the kernel
// answers these requests while it handles sendto() and recvmsg(), so a reading never waits in
// practice; a bounded poll() covers the case where it does not, so the daemon's one thread is
// never held for longer than the budget. Not nft/netlink_socket.h: that socket blocks in
// recvfrom() until the kernel answers, which the nftables dump may, but a part that merely adds
// to a reading must not.

#include <cstdint>
#include <optional>
#include <vector>

#include "monitor/conntrack/conntrack_stats.h"
#include "monitor/owned_fd.h"

namespace ctmon::conntrack {

class ConntrackReader {
 public:
  ConntrackReader();

  /// One reading into `out` (cleared first): the global request, then the per-CPU dump, about
  /// four system calls. Returns 0, or the errno of what failed: EPERM (no CAP_NET_ADMIN),
  /// EOPNOTSUPP or ENOENT (no ctnetlink: nf_conntrack_netlink not loaded), EPROTONOSUPPORT (no
  /// nfnetlink), ETIMEDOUT (no complete answer within `budget_ns`), ENOSPC (a datagram larger
  /// than the buffer), EPROTO (bytes no kernel sends), or a socket error. After a failure the
  /// next reading starts from a clean socket.
  int read(ConntrackStats& out, std::int64_t budget_ns);

 private:
  int open();
  int exchange(Request request, ConntrackStats& out, std::int64_t deadline_ns);
  void drain();

  std::optional<OwnedFd> fd_;  // empty until a reading opens it
  std::uint32_t port_id_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<char> buffer_;
};

}  // namespace ctmon::conntrack

#pragma once
// The kernel's nftables change notifications (netlink group NFNLGRP_NFTABLES), narrowed to one
// table: how the daemon learns that its table lost its rules (`nft flush table`, `nft flush
// chain`) without asking the kernel at every sample. `nft flush table` keeps the chains and
// the named counters, so the counters still read, only frozen; nothing in a reading shows it.
//
// A notification says only that something changed; the caller then runs check_rules()
// (ruleset.h) once. Every ruleset change of the namespace reaches the socket (a firewall reload,
// `nft add element`), so only those about the table itself, its chains and its rules count.

#include <cstddef>
#include <memory>
#include <vector>

#include <libmnl/libmnl.h>

#include "monitor/nft/table_ref.h"

namespace ctmon::nft {

/// True when one of the netlink messages in `datagram` (as received from NFNLGRP_NFTABLES)
/// creates or deletes `table`, one of its chains or one of its rules.
[[nodiscard]] bool touches_table(const void* datagram, std::size_t size, const TableRef& table);

class RulesetWatch {
 public:
  /// Subscribes to the notifications. Throws NftError when the kernel refuses (no nf_tables,
  /// no CAP_NET_ADMIN, a kernel without the group).
  explicit RulesetWatch(TableRef table);

  /// Readable when notifications wait; non-blocking, close-on-exec.
  [[nodiscard]] int fd() const;

  /// Reads the notifications waiting, without blocking. True when one touches the table, or
  /// when some were lost (the socket overflowed: ENOBUFS), so that the caller checks.
  bool drain();

 private:
  struct Closer {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
  };
  TableRef table_;
  std::unique_ptr<mnl_socket, Closer> socket_;
  std::vector<char> buffer_;
};

}  // namespace ctmon::nft

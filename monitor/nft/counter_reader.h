#pragma once
// Reads the named counters of one nftables table straight from the kernel: one NFT_MSG_GETOBJ
// dump per reading over a socket opened once. No fork, no nft, no parsing of text.

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/nft/netlink_socket.h"
#include "monitor/nft/table_ref.h"

namespace ctmon::nft {

/// One named counter object as the kernel reports it.
struct CounterReading {
  std::string name;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

/// Parses one NFT_MSG_NEWOBJ message of a counter dump (what the kernel sends for each named
/// counter) into `out`, reusing its storage. Returns false, `out` then unspecified and errno
/// EPROTO, when the message is not a counter object with a name, packets and bytes: bytes no
/// kernel sends, so the caller treats them as a protocol error. Never exits, never reads outside
/// `message->nlmsg_len` bytes; may throw std::bad_alloc while copying the name.
[[nodiscard]] bool parse_counter_message(const nlmsghdr* message, CounterReading& out);

class CounterReader {
 public:
  /// Opens the netlink socket. Throws NftError when the kernel has no nfnetlink. Does not check
  /// that the table exists: that is read()'s business, each time.
  explicit CounterReader(TableRef table);

  /// Dumps every counter object of the table into `out` (cleared first; its storage is reused
  /// across calls), in the kernel's order, which is the order `nft list counters` prints.
  /// Objects of other types (quotas, limits) are left out by the kernel's type filter.
  /// An existing table without counters yields an empty `out`.
  /// Throws NftError: kTableMissing (with a hint when the name exists in another family),
  /// kNoPermission, kNfTablesAbsent, kBufferOverrun, kOther.
  void read(std::vector<CounterReading>& out);

  /// True when the table exists; throws NftError for anything but "no such table".
  [[nodiscard]] bool table_exists();

  /// The families (comma-separated, e.g. "inet") in which a table named like ours exists, other
  /// than our own family. Used to say "did you mean --table inet:conntrack_stats".
  [[nodiscard]] std::string other_families_with_table();

  [[nodiscard]] const TableRef& table() const { return table_; }

 private:
  TableRef table_;
  std::uint8_t nfproto_;
  NetlinkSocket socket_;
};

}  // namespace ctmon::nft

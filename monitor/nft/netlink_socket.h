#pragma once
// One NETLINK_NETFILTER socket, opened once and reused for every request, so a sample costs one
// sendto and a few recvfrom calls and nothing else.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <libmnl/libmnl.h>

namespace ctmon::nft {

class NetlinkSocket {
 public:
  /// Opens and binds the socket. Throws NftError (kind kNfTablesAbsent or kOther) when the kernel
  /// has no nfnetlink.
  NetlinkSocket();

  /// The buffer a request is built in; valid until the next call of request().
  [[nodiscard]] char* request_buffer() { return request_.data(); }
  /// A fresh sequence number for the next request header.
  [[nodiscard]] std::uint32_t next_seq() { return ++seq_; }

  /// Sends the request `nlh` (built in request_buffer() with sequence number `seq`) and calls
  /// `on_message(const nlmsghdr*)` for every reply until the kernel says the dump or the
  /// acknowledgement is done. `on_message` returns MNL_CB_OK to go on or MNL_CB_ERROR to stop.
  /// Returns 0 on success or the positive errno of the failure (EPERM, ENOENT, ENOBUFS, ...).
  /// A dump the kernel interrupted because the ruleset changed (NLM_F_DUMP_INTR) is retried.
  template <class OnMessage>
  int request(const nlmsghdr* nlh, std::uint32_t seq, OnMessage&& on_message) {
    return run(nlh, seq, &trampoline<std::remove_reference_t<OnMessage>>, &on_message);
  }

 private:
  template <class OnMessage>
  static int trampoline(const nlmsghdr* nlh, void* data) {
    return (*static_cast<OnMessage*>(data))(nlh);
  }
  int run(const nlmsghdr* nlh, std::uint32_t seq, mnl_cb_t callback, void* data);
  int run_once(const nlmsghdr* nlh, std::uint32_t seq, mnl_cb_t callback, void* data);
  void drain();

  struct Closer {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
  };
  std::unique_ptr<mnl_socket, Closer> socket_;
  std::uint32_t port_id_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<char> request_;  // kept apart from buffer_ so a retry can resend it
  std::vector<char> buffer_;
};

}  // namespace ctmon::nft

#include "monitor/nft/netlink_socket.h"

#include <cerrno>
#include <ctime>

#include <sys/socket.h>

#include "monitor/nft/nft_error.h"

namespace ctmon::nft {
namespace {

// A dump reply carries several objects per datagram; 32 KiB (libmnl's MNL_SOCKET_DUMP_SIZE)
// holds a whole 18-counter dump in one recvfrom and is what the kernel sizes dump skbs for.
constexpr std::size_t kBufferBytes = 32768;
// The kernel marks a dump NLM_F_DUMP_INTR when the ruleset changed while it was being dumped
// (e.g. `nft -f` reloading the rules); a fresh dump then is consistent.
constexpr int kMaxAttempts = 3;
// Our requests carry a table name and a few attributes.
constexpr std::size_t kRequestBytes = 4096;

}  // namespace

NetlinkSocket::NetlinkSocket() : request_(kRequestBytes), buffer_(kBufferBytes) {
  socket_.reset(mnl_socket_open(NETLINK_NETFILTER));
  if (!socket_) throw error_from_errno(errno, TableRef{}, "opening a netlink socket for");
  if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw error_from_errno(errno, TableRef{}, "binding a netlink socket for");
  port_id_ = mnl_socket_get_portid(socket_.get());
  // Start from the clock so that two ctmon processes are easy to tell apart in a netlink trace.
  seq_ = static_cast<std::uint32_t>(std::time(nullptr));
}

int NetlinkSocket::run(const nlmsghdr* nlh, std::uint32_t seq, mnl_cb_t callback, void* data) {
  int err = 0;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    err = run_once(nlh, seq, callback, data);
    if (err != EINTR && err != ENOBUFS) return err;
    drain();  // leftovers of the broken dump would otherwise be read as replies to the next one
  }
  return err;
}

int NetlinkSocket::run_once(const nlmsghdr* nlh, std::uint32_t seq, mnl_cb_t callback,
                            void* data) {
  if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0) return errno;
  for (;;) {
    const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (received < 0) return errno;
    // libmnl returns -1 with errno set from an NLMSG_ERROR reply, or EINTR for NLM_F_DUMP_INTR;
    // our callbacks set errno themselves before they return MNL_CB_ERROR.
    errno = 0;
    const int status = mnl_cb_run(buffer_.data(), static_cast<std::size_t>(received), seq,
                                  port_id_, callback, data);
    if (status < 0) return errno != 0 ? errno : EPROTO;
    if (status == MNL_CB_STOP) return 0;
  }
}

void NetlinkSocket::drain() {
  const int fd = mnl_socket_get_fd(socket_.get());
  while (recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT) > 0) {
  }
}

}  // namespace ctmon::nft

#include "monitor/conntrack/conntrack_reader.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

#include "monitor/clock.h"

namespace ctmon::conntrack {
namespace {

// The kernel sizes dump datagrams by the largest buffer a reader has offered, and at most
// NLMSG_GOODSIZE (a page, at most 8 KiB) before that: 8 KiB holds every datagram it sends us
// (one CPU's statistics are 96 bytes, so about 80 CPUs per datagram).
constexpr std::size_t kBufferBytes = 8192;
constexpr int kNsPerMs = 1'000'000;

}  // namespace

ConntrackReader::ConntrackReader() : buffer_(kBufferBytes) {
  // Start from the clock so that two ctmon processes are easy to tell apart in a netlink trace.
  seq_ = static_cast<std::uint32_t>(std::time(nullptr));
}

int ConntrackReader::open() {
  OwnedFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER));
  if (fd.get() < 0) return errno;
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns the port
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) < 0) return errno;
  socklen_t length = sizeof(address);
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) < 0) return errno;
  port_id_ = address.nl_pid;
  fd_.emplace(fd.release());
  return 0;
}

int ConntrackReader::read(ConntrackStats& out, std::int64_t budget_ns) {
  out.clear();
  if (!fd_) {
    if (const int error = open(); error != 0) return error;
  }
  const std::int64_t deadline_ns = now_mono_ns() + budget_ns;
  for (const Request request : {Request::global, Request::per_cpu}) {
    if (const int error = exchange(request, out, deadline_ns); error != 0) {
      drain();  // what is left of this answer must not be read as the next one
      return error;
    }
  }
  return 0;
}

int ConntrackReader::exchange(Request request, ConntrackStats& out, std::int64_t deadline_ns) {
  alignas(nlmsghdr) char request_bytes[kRequestBytes];
  const std::uint32_t seq = ++seq_;
  const nlmsghdr* header = build_request(request_bytes, request, seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_->get(), header, header->nlmsg_len, 0, reinterpret_cast<const sockaddr*>(&kernel),
             sizeof(kernel)) < 0)
    return errno;
  for (;;) {
    sockaddr_nl from{};
    iovec io{buffer_.data(), buffer_.size()};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof(from);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    const ssize_t received = recvmsg(fd_->get(), &message, 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return errno;
      const std::int64_t left_ns = deadline_ns - now_mono_ns();
      if (left_ns <= 0) return ETIMEDOUT;
      pollfd wait{fd_->get(), POLLIN, 0};
      const int timeout_ms = static_cast<int>((left_ns + kNsPerMs - 1) / kNsPerMs);
      if (poll(&wait, 1, timeout_ms) < 0 && errno != EINTR) return errno;
      continue;
    }
    if ((message.msg_flags & MSG_TRUNC) != 0) return ENOSPC;
    if (from.nl_pid != 0) continue;  // only the kernel speaks to this socket
    const ReplyStep step = parse_reply_datagram(buffer_.data(), static_cast<std::size_t>(received),
                                                request, seq, port_id_, out);
    if (step.outcome == ReplyStep::kDone) return 0;
    if (step.outcome == ReplyStep::kError && step.error != ESRCH) return step.error;
    // kMore, or the rest of an answer we gave up on (ESRCH): read on.
  }
}

void ConntrackReader::drain() {
  while (recv(fd_->get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT) > 0) {
  }
}

}  // namespace ctmon::conntrack

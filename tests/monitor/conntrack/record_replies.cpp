// Records the kernel's replies to the two conntrack statistics requests as the fixtures of
// conntrack_stats_test.cpp: one file per request, one received datagram per line in hex, after
// comment lines saying where they came from. Built on demand only (target record_conntrack_replies):
//
//   record_conntrack_replies DIR NAME "comment"   writes DIR/NAME-global.hex, DIR/NAME-per_cpu.hex
//
// Run as root; in the namespace to record (`unshare -n`, `ip netns exec`).
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "monitor/conntrack/conntrack_stats.h"

namespace {

using ctmon::conntrack::Request;

bool record(const std::string& path, Request request, const std::string& comment) {
  const int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return false;
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) return false;
  alignas(nlmsghdr) char bytes[ctmon::conntrack::kRequestBytes];
  const nlmsghdr* header = ctmon::conntrack::build_request(bytes, request, 1);
  if (sendto(fd, header, header->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0)
    return false;
  std::ofstream out(path, std::ios::trunc);
  out << "# " << comment << "\n# one datagram per line, hex; recorded by record_conntrack_replies\n";
  alignas(nlmsghdr) static char buffer[8192];
  ctmon::conntrack::ConntrackStats stats;
  for (;;) {
    const ssize_t received = recv(fd, buffer, sizeof(buffer), 0);
    if (received < 0) return false;
    for (ssize_t k = 0; k < received; ++k) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", static_cast<unsigned char>(buffer[k]));
      out << hex;
    }
    out << '\n';
    const auto step = ctmon::conntrack::parse_reply_datagram(buffer, static_cast<std::size_t>(received),
                                                             request, 0, 0, stats);
    if (step.outcome != ctmon::conntrack::ReplyStep::kMore) break;
  }
  close(fd);
  return static_cast<bool>(out.flush());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR NAME COMMENT\n", argv[0]);
    return 2;
  }
  const std::string base = std::string(argv[1]) + "/" + argv[2];
  if (!record(base + "-global.hex", Request::global, argv[3]) ||
      !record(base + "-per_cpu.hex", Request::per_cpu, argv[3])) {
    std::fprintf(stderr, "%s: %s\n", base.c_str(), std::strerror(errno));
    return 1;
  }
  return 0;
}

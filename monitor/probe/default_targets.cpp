#include "monitor/probe/default_targets.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <vector>

namespace ctmon::probe {
namespace {

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using NetlinkSocket = std::unique_ptr<mnl_socket, SocketCloser>;

// Sends one dump request and calls `on_message` for every answer; false when the kernel could
// not be asked.
bool dump(mnl_socket* socket, std::uint16_t type, std::uint8_t family,
          const std::function<void(const nlmsghdr*)>& on_message) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = type;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  const auto seq = static_cast<unsigned>(time(nullptr)) + type;
  request->nlmsg_seq = seq;
  if (type == RTM_GETROUTE) {
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(rtmsg)));
    rtm->rtm_family = family;
  } else {
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(ifaddrmsg)));
    ifa->ifa_family = family;
  }
  if (mnl_socket_sendto(socket, request, request->nlmsg_len) < 0) return false;
  const unsigned portid = mnl_socket_get_portid(socket);
  struct Context {
    const std::function<void(const nlmsghdr*)>* on_message;
  } context{&on_message};
  const auto callback = [](const nlmsghdr* message, void* data) -> int {
    (*static_cast<Context*>(data)->on_message)(message);
    return MNL_CB_OK;
  };
  for (;;) {
    const ssize_t got = mnl_socket_recvfrom(socket, buffer.data(), buffer.size());
    if (got < 0) return false;
    const int result = mnl_cb_run(buffer.data(), static_cast<std::size_t>(got), seq, portid,
                                  callback, &context);
    if (result == MNL_CB_STOP) return true;
    if (result == MNL_CB_ERROR) return false;
  }
}

struct Attributes {
  const nlattr* by_type[RTA_MAX + IFA_MAX + 2] = {};
};

void collect(const nlmsghdr* message, std::size_t header, Attributes& out, int max) {
  const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, header));
  for (; mnl_attr_ok(attr, static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(message)) -
                                            reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    const int type = mnl_attr_get_type(attr);
    if (type <= max) out.by_type[type] = attr;
  }
}

bool is_private(int family, const void* address) {
  const auto* b = static_cast<const unsigned char*>(address);
  if (family == AF_INET)
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168);
  return (b[0] & 0xfe) == 0xfc;
}

bool is_excluded(int family, const void* address) {
  const auto* b = static_cast<const unsigned char*>(address);
  if (family == AF_INET) return b[0] == 127 || (b[0] == 169 && b[1] == 254);
  static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(b, kLoopback, 16) == 0 || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

ProbeTarget make_target(ProbeSide side, int family, const void* address, unsigned scope) {
  ProbeTarget target;
  target.side = side;
  target.spec = "auto";
  if (family == AF_INET) {
    auto& sin = reinterpret_cast<sockaddr_in&>(target.address.storage);
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, address, 4);
    target.address.length = sizeof sin;
  } else {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(target.address.storage);
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, address, 16);
    const auto* b = static_cast<const unsigned char*>(address);
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) sin6.sin6_scope_id = scope;
    target.address.length = sizeof sin6;
  }
  return target;
}

}  // namespace

DefaultTargets find_default_targets() {
  DefaultTargets found;
  NetlinkSocket socket(mnl_socket_open(NETLINK_ROUTE));
  if (!socket || mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    found.error = std::strerror(errno);
    return found;
  }
  unsigned gateway_oif = 0;
  bool have_gateway_oif = false;
  for (const std::uint8_t family : {AF_INET, AF_INET6}) {
    if (found.wan) break;
    const bool asked = dump(socket.get(), RTM_GETROUTE, family, [&](const nlmsghdr* message) {
      if (found.wan || message->nlmsg_type != RTM_NEWROUTE) return;
      const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(message));
      if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST) return;
      Attributes a;
      collect(message, sizeof(rtmsg), a, RTA_MAX);
      const unsigned table =
          a.by_type[RTA_TABLE] ? mnl_attr_get_u32(a.by_type[RTA_TABLE]) : rtm->rtm_table;
      if (table != RT_TABLE_MAIN || !a.by_type[RTA_GATEWAY]) return;
      const unsigned oif = a.by_type[RTA_OIF] ? mnl_attr_get_u32(a.by_type[RTA_OIF]) : 0;
      const std::size_t size = family == AF_INET ? 4 : 16;
      if (mnl_attr_get_payload_len(a.by_type[RTA_GATEWAY]) != size) return;
      found.wan = make_target(ProbeSide::wan, family, mnl_attr_get_payload(a.by_type[RTA_GATEWAY]), oif);
      gateway_oif = oif;
      have_gateway_oif = oif != 0;
    });
    if (!asked) {
      found.error = std::strerror(errno);
      return found;
    }
  }
  int best_rank = -1;
  for (const std::uint8_t family : {AF_INET, AF_INET6}) {
    const bool asked = dump(socket.get(), RTM_GETADDR, family, [&](const nlmsghdr* message) {
      if (message->nlmsg_type != RTM_NEWADDR) return;
      const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
      if (have_gateway_oif && ifa->ifa_index == gateway_oif) return;
      Attributes a;
      collect(message, sizeof(ifaddrmsg), a, IFA_MAX);
      const nlattr* local = a.by_type[IFA_LOCAL] ? a.by_type[IFA_LOCAL] : a.by_type[IFA_ADDRESS];
      const std::size_t size = ifa->ifa_family == AF_INET ? 4 : 16;
      if (!local || mnl_attr_get_payload_len(local) != size) return;
      const void* address = mnl_attr_get_payload(local);
      if (is_excluded(ifa->ifa_family, address)) return;
      // IPv4 private 3, IPv4 other 2, IPv6 private (ULA) 1, IPv6 other 0; the first of a rank wins.
      const int rank = (ifa->ifa_family == AF_INET ? 2 : 0) + (is_private(ifa->ifa_family, address) ? 1 : 0);
      if (rank <= best_rank) return;
      best_rank = rank;
      found.lan = make_target(ProbeSide::lan, ifa->ifa_family, address, ifa->ifa_index);
    });
    if (!asked) {
      found.error = std::strerror(errno);
      return found;
    }
  }
  return found;
}

}  // namespace ctmon::probe

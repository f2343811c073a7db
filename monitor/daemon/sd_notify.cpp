#include "monitor/daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/core.h>

#include "monitor/owned_fd.h"

namespace ctmon::daemon {
namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::optional<long long> parse_positive(const std::string& text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

SdNotifier SdNotifier::from_environment() {
  std::optional<std::chrono::microseconds> watchdog;
  // WATCHDOG_PID names the process systemd watches; a child that inherited the variables
  // (a shell the daemon never starts, but a test might) must not think it is watched.
  const std::string watchdog_pid = env_or_empty("WATCHDOG_PID");
  const bool for_us =
      watchdog_pid.empty() || parse_positive(watchdog_pid) == static_cast<long long>(::getpid());
  if (const auto usec = parse_positive(env_or_empty("WATCHDOG_USEC")); usec && for_us)
    watchdog = std::chrono::microseconds(*usec);
  return SdNotifier(env_or_empty("NOTIFY_SOCKET"), watchdog);
}

SdNotifier::SdNotifier(std::string socket_address,
                       std::optional<std::chrono::microseconds> watchdog)
    : address_(std::move(socket_address)), watchdog_(watchdog) {}

std::string SdNotifier::notify(std::string_view state) const {
  if (address_.empty()) return "";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((address_[0] != '/' && address_[0] != '@') || address_.size() < 2)
    return fmt::format("NOTIFY_SOCKET={} is neither a path nor an @abstract name; systemd sets "
                       "it: do not set it by hand", address_);
  if (address_.size() > sizeof(addr.sun_path) - (address_[0] == '/' ? 1 : 0))
    return fmt::format("NOTIFY_SOCKET={} is longer than a socket address may be ({} bytes)",
                       address_, sizeof(addr.sun_path) - 1);
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  if (address_[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace starts with a NUL
  // A path is NUL-terminated (counted in the length); an abstract name is exactly its bytes.
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                             (address_[0] == '/' ? 1 : 0));

  const OwnedFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0)
    return fmt::format("cannot open a socket to tell systemd {}: {}", state, std::strerror(errno));
  // Never wait: a service manager that does not read must not stall sampling (EAGAIN instead).
  const ssize_t sent = ::sendto(socket.get(), state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&addr), length);
  if (sent < 0)
    return fmt::format("cannot tell systemd {} through NOTIFY_SOCKET={}: {}", state, address_,
                       std::strerror(errno));
  if (static_cast<std::size_t>(sent) != state.size())
    return fmt::format("systemd's NOTIFY_SOCKET={} took {} of {} bytes of {}", address_, sent,
                       state.size(), state);
  return "";
}

}  // namespace ctmon::daemon

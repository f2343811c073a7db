#include "monitor/daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

using ctmon::daemon::SdNotifier;

namespace {

// A service manager's end of the protocol: a datagram socket bound to a path or an abstract name.
class Listener {
 public:
  explicit Listener(const std::string& address) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, address.data(), address.size());
    const bool abstract = address[0] == '@';
    if (abstract) addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                               (abstract ? 0 : 1));
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), length) == 0);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener() { ::close(fd_); }

  // The next datagram, or "" when none is waiting (the sender is synchronous: it is there).
  std::string receive() const {
    std::array<char, 512> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    return n < 0 ? std::string() : std::string(buffer.data(), static_cast<std::size_t>(n));
  }

 private:
  int fd_;
};

std::string temp_socket_path() {
  const auto dir = std::filesystem::temp_directory_path();
  return (dir / ("ctmon-notify-" + std::to_string(::getpid()) + ".sock")).string();
}

}  // namespace

TEST_CASE("sd_notify: without a service manager every notification is a silent no-op") {
  const SdNotifier notifier("");
  CHECK_FALSE(notifier.active());
  CHECK(notifier.notify("READY=1").empty());
  CHECK_FALSE(notifier.watchdog_period());
}

TEST_CASE("sd_notify: a datagram reaches a socket named by its path") {
  const std::string path = temp_socket_path();
  std::filesystem::remove(path);
  {
    const Listener listener(path);
    const SdNotifier notifier(path);
    CHECK(notifier.active());
    CHECK(notifier.notify("READY=1\nSTATUS=sampling ip conntrack_stats") == "");
    CHECK(listener.receive() == "READY=1\nSTATUS=sampling ip conntrack_stats");
    CHECK(notifier.notify("WATCHDOG=1") == "");
    CHECK(listener.receive() == "WATCHDOG=1");
  }
  std::filesystem::remove(path);
}

TEST_CASE("sd_notify: an @name reaches the abstract namespace, as systemd's own socket does") {
  const std::string name = "@ctmon-notify-test-" + std::to_string(::getpid());
  const Listener listener(name);
  CHECK(SdNotifier(name).notify("STOPPING=1") == "");
  CHECK(listener.receive() == "STOPPING=1");
}

TEST_CASE("sd_notify: a socket that is gone or an address that is not one is an error line") {
  const std::string missing = temp_socket_path() + ".missing";
  const std::string gone = SdNotifier(missing).notify("READY=1");
  CHECK(gone.find("NOTIFY_SOCKET=" + missing) != std::string::npos);
  CHECK(gone.find("No such file") != std::string::npos);
  CHECK(gone.find('\n') == std::string::npos);

  CHECK(SdNotifier("relative.sock").notify("READY=1").find("neither a path nor") !=
        std::string::npos);
  CHECK(SdNotifier("/" + std::string(200, 'x')).notify("READY=1").find("longer than") !=
        std::string::npos);
}

TEST_CASE("sd_notify: the watchdog period is read from the environment, for this process only") {
  ::setenv("NOTIFY_SOCKET", "@ctmon-env", 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::unsetenv("WATCHDOG_PID");
  SdNotifier notifier = SdNotifier::from_environment();
  CHECK(notifier.active());
  REQUIRE(notifier.watchdog_period());
  CHECK(notifier.watchdog_period()->count() == 30000000);

  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  CHECK(SdNotifier::from_environment().watchdog_period());
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  CHECK_FALSE(SdNotifier::from_environment().watchdog_period());
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  ::setenv("WATCHDOG_USEC", "soon", 1);
  CHECK_FALSE(SdNotifier::from_environment().watchdog_period());

  for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) ::unsetenv(name);
  CHECK_FALSE(SdNotifier::from_environment().active());
}

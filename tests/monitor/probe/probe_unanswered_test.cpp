// A target that never answers: the probe input pinging a loopback that ignores echo requests,
// in a network namespace of this process's own (root only), driven like the daemon's loop does.
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/clock.h"
#include "monitor/owned_fd.h"
#include "monitor/probe/probe_input.h"
#include "monitor/user_error.h"

#include "drive_input.h"

using namespace ctmon;
using ctmon::probe_test::drive;

TEST_CASE("an address nobody answers is loss, counted at its timeout, logged once") {
  // A network namespace of its own whose loopback ignores echo requests (root only).
  if (::unshare(CLONE_NEWNET) != 0) {
    WARN("cannot make a network namespace (not root), skipped: " << std::strerror(errno));
    std::exit(77);
  }
  {
    OwnedFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq lo{};
    std::strcpy(lo.ifr_name, "lo");
    REQUIRE(::ioctl(fd.get(), SIOCGIFFLAGS, &lo) == 0);
    lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
    REQUIRE(::ioctl(fd.get(), SIOCSIFFLAGS, &lo) == 0);
    std::ofstream("/proc/sys/net/ipv4/icmp_echo_ignore_all") << "1\n";
  }
  std::unique_ptr<probe::ProbeInput> input;
  std::vector<std::string> logged;
  try {
    input = std::make_unique<probe::ProbeInput>(
        std::vector<probe::ProbeTarget>{probe::parse_probe_spec("lan:127.0.0.1")}, 10, 0.1,
        [&logged](io::Severity, const std::string& line) { logged.push_back(line); }, now_mono_ns());
  } catch (const UserError& e) {
    WARN("no ICMP socket allowed here, skipped: " << e.what());
    std::exit(77);
  }
  CounterCatalog catalog;
  const Sample sample = drive(*input, catalog, 2.5);
  const CounterTotals loss = sample.counters.at(catalog.find("probe_lan_loss"));
  status::DaemonStatus st;
  input->report(st);
  INFO("sent " << st.probes.at(0).sent << " logged " << logged.size() << (logged.empty() ? "" : logged[0]));
  CHECK(loss.packets >= 150);  // 100 per s, but those sent within the timeout before the end
  CHECK(loss.bytes == loss.packets);
  CHECK(sample.counters.at(catalog.find("probe_lan_rtt_median_us")).packets == 0);
  // Logged once for the condition, not once per probe.
  std::size_t complaints = 0;
  for (const std::string& line : logged) complaints += line.find("no answer") != std::string::npos;
  CHECK(complaints == 1);
}

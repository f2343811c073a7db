// A real round trip: the probe input pinging the loopback address through whatever socket this
// process may open (a ping socket, else a raw one as root), driven like the daemon's loop does.
#include <poll.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "monitor/clock.h"
#include "monitor/probe/probe_input.h"
#include "monitor/user_error.h"

#include "drive_input.h"

using namespace ctmon;
using ctmon::probe_test::drive;

TEST_CASE("pinging the loopback address gives replies, sub-millisecond RTTs and no loss") {
  for (const std::string spec : {"lan:127.0.0.1", "lan:[::1]"}) {
    INFO(spec);
    std::unique_ptr<probe::ProbeInput> input;
    try {
      input = std::make_unique<probe::ProbeInput>(
          std::vector<probe::ProbeTarget>{probe::parse_probe_spec(spec)}, 10, 0.2, io::LogSink{},
          now_mono_ns());
    } catch (const UserError& e) {
      WARN("no ICMP socket allowed here (not root, ping_group_range off), skipped: " << e.what());
      std::exit(77);
    }
    CounterCatalog catalog;
    const Sample sample = drive(*input, catalog, 0.5);
    const auto totals = [&](const char* name) {
      const CounterId id = catalog.find(name);
      REQUIRE(id < sample.counters.size());
      return sample.counters[id];
    };
    const CounterTotals median = totals("probe_lan_rtt_median_us");
    const CounterTotals loss = totals("probe_lan_loss");
    const CounterTotals jitter = totals("probe_lan_jitter_us");
    CHECK(median.present);
    CHECK(median.packets == 1);          // one interval with replies
    CHECK(median.bytes < 50'000);        // loopback: far under 50 ms
    CHECK(loss.packets >= 15);           // 10 per 0.2 s for 0.5 s, minus those still out
    CHECK(loss.bytes == 0);
    CHECK(jitter.packets + 1 == loss.packets);  // every reply pairs with the one before
    status::DaemonStatus status;
    input->report(status);
    REQUIRE(status.probes.size() == 1);
    CHECK(status.probes[0].state == "ok");
    CHECK(status.probes[0].median_rtt_ms >= 0);
    CHECK(status.probes[0].median_rtt_ms < 50);
  }
}


// libFuzzer target: one received datagram of a conntrack statistics reply, parsed as either
// request's answer (monitor/conntrack/conntrack_stats.h), then summed and accumulated the way
// the conntrack health input does. The corpus holds the replies recorded from the kernel and the
// hand-made ones of tests/monitor/conntrack/fixtures/, one datagram per file, named
// <fixture>-<line>: each hex line of a fixture written as bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "monitor/conntrack/conntrack_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctmon::conntrack;
  // In storage aligned as recvmsg's buffer is, exactly `size` bytes long so that AddressSanitizer
  // sees any read past the end.
  const std::vector<std::uint8_t> copy(data, data + size);
  for (const Request request : {Request::global, Request::per_cpu}) {
    ConntrackStats stats;
    (void)parse_reply_datagram(copy.data(), size, request, 0, 0, stats);
    CumulativeStats totals;
    totals.add(stats);
    totals.add(stats);
    for (std::size_t k = 0; k < kStatCount; ++k) {
      (void)stats.sum(static_cast<Stat>(k));
      (void)totals.total(static_cast<Stat>(k));
    }
  }
  return 0;
}

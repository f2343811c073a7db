#include "monitor/nft/netlink_source.h"

#include <ctime>

namespace ctmon::nft {
namespace {

std::int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool NetlinkSource::next(Sample& out, CounterCatalog& catalog) {
  reader_.read(readings_);
  // Stamped after the dump returns: the dump takes tens of microseconds, far below the interval.
  out.mono_ns = now_ns(CLOCK_MONOTONIC);
  out.wall_ns = now_ns(CLOCK_REALTIME);
  for (auto& totals : out.counters) totals.present = false;
  for (const auto& reading : readings_) {
    const CounterId id = catalog.intern(reading.name);
    if (id >= out.counters.size()) out.counters.resize(id + 1);
    out.counters[id] = CounterTotals{reading.packets, reading.bytes, true};
  }
  out.counters.resize(catalog.size());
  return true;
}

}  // namespace ctmon::nft

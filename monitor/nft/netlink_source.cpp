#include "monitor/clock.h"
#include "monitor/nft/netlink_source.h"

#include <ctime>

namespace ctmon::nft {
namespace {


}  // namespace

bool NetlinkSource::next(Sample& out, CounterCatalog& catalog) {
  reader_.read(readings_);
  // Stamped after the dump returns: the dump takes tens of microseconds, far below the interval.
  out.mono_ns = clock_ns(CLOCK_MONOTONIC);
  out.wall_ns = clock_ns(CLOCK_REALTIME);
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

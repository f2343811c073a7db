#pragma once
// What every input and output of the daemon has in common (input.h, output.h; the loop that
// drives them is monitor/daemon/daemon.cpp, and docs/daemon.md tells the whole story).
//
// The daemon is one thread waiting in one ppoll(): for the descriptors every part asks for, the
// signal descriptor and the status socket, until the earliest time some part is due. After the
// wait, every part whose descriptor is ready or whose due time has passed is pumped. A part
// never blocks and never sleeps: what it cannot finish now it finishes in a later pump.

#include <poll.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/config/config.h"
#include "monitor/status/daemon_status.h"

namespace ctmon::io {

/// A due time meaning "only when one of my descriptors is ready".
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

class Part {
 public:
  virtual ~Part() = default;

  /// A short name for log lines ("counters", "influx").
  [[nodiscard]] virtual std::string_view name() const = 0;

  /// Appends the descriptors to wait for until the next pump (fd and events set; revents is
  /// the loop's) and returns the CLOCK_MONOTONIC time at which pump() must run even if none is
  /// ready (kNever: only when one is). Called before every wait, so both may change each time.
  virtual std::int64_t want(std::vector<pollfd>& fds, std::int64_t now_mono_ns) {
    (void)fds;
    (void)now_mono_ns;
    return kNever;
  }

  /// Writes this part's state into its member of `status` (daemon_status.h). Called when a
  /// client asks: cheap, no I/O that can block.
  virtual void report(status::DaemonStatus& status) const = 0;

  /// Applies a configuration reloaded by SIGHUP: the keys the table in config_keys.cpp marks
  /// OnReload::kApplied. (Keys that need a restart are the daemon's to report, from that same
  /// table.) On a bad new value: keeps the old one and logs why.
  virtual void reload(const Config& fresh) { (void)fresh; }
};

}  // namespace ctmon::io

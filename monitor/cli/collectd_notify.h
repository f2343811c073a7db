#pragma once
// Episodes as collectd notifications, for `ctmon collectd --loop --db`: the daemon records its
// episodes in the database, and the collectd Exec program turns each opening and ending it finds
// there into a PUTNOTIF line (collectd-exec(5)), so an existing collectd (and what it notifies
// through) hears of them with no new service.
//
// The watch goes by episode id, never by time: ids only grow, while the wall clock may jump.

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/store/event_store.h"

namespace ctmon::cli {

/// One episode that began or ended since the last look.
struct EpisodeTransition {
  store::EventRecord record;
  bool opened = false;  ///< true: it began; false: it ended
};

class EpisodeWatch {
 public:
  /// Starts from what `events` holds now: episodes recorded before are not announced again
  /// (collectd restarts its Exec programs), but the end of one open now will be. `events` must
  /// outlive the watch.
  explicit EpisodeWatch(const store::EventStore& events);

  /// What began or ended since the last call, episodes that were already open first, then new
  /// ones by id; one that began and ended in between gives both. Throws store::SqliteError when
  /// the database cannot be read (the watch stays as it was: the next call catches up).
  [[nodiscard]] std::vector<EpisodeTransition> poll();

 private:
  const store::EventStore& events_;
  std::int64_t next_id_;                // the first id not yet looked at
  std::vector<std::int64_t> open_ids_;  // announced (or found at the start) and not yet ended
};

/// The PUTNOTIF line for `change`, ending in '\n': severity warning when the episode began (at its
/// start time), okay when it ended (at its end time); host and plugin as the PUTVAL lines name
/// them (plugin nftables, instance the table's name), type "episode" with the id as its
/// instance, and a one-line message with kind, score, length and summary. Values are quoted:
/// collectd splits its commands at spaces.
[[nodiscard]] std::string putnotif_line(const EpisodeTransition& change, const std::string& host,
                                        const std::string& table_name);

}  // namespace ctmon::cli

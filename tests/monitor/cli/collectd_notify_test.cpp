#include "monitor/cli/collectd_notify.h"

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include "core/time.h"
#include "monitor/store/database.h"
#include "tests/monitor/store/temp_dir.h"

namespace ctmon::cli {
namespace {

using store::Database;
using store::EventRecord;
using store::EventStore;

constexpr std::int64_t kT = 1'764'000'000LL * kNsPerS;

EventRecord episode(std::int64_t id, std::optional<std::int64_t> end_s = std::nullopt) {
  EventRecord e;
  e.id = id;
  e.start_wall_ns = kT + id * 1000 * kNsPerS;
  if (end_s) e.end_wall_ns = e.start_wall_ns + *end_s * kNsPerS;
  e.peak_score = 0.875;
  e.kind = "scan";
  e.summary = "tcp_conntrack_in_new rose to 412 pps (usually 3)";
  return e;
}

// "id:began" or "id:ended" for each change, in order.
std::vector<std::string> seen(const std::vector<EpisodeTransition>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(std::to_string(c.record.id) + (c.opened ? ":began" : ":ended"));
  return out;
}

TEST_CASE("the watch announces what began and ended after it started, once each") {
  store::testing::TempDir dir;
  Database writer = Database::open(dir / "ctmon.db");
  EventStore written(writer);
  written.upsert(episode(1, 30));  // over before the watch: history, not news
  written.upsert(episode(2));      // open at the start: only its end is news

  Database reader = Database::open(dir / "ctmon.db", store::reader_options());
  const EventStore events(reader);
  EpisodeWatch watch(events);
  CHECK(watch.poll().empty());

  written.upsert(episode(3));
  CHECK(seen(watch.poll()) == std::vector<std::string>{"3:began"});
  CHECK(watch.poll().empty());

  written.upsert(episode(2, 40));
  written.upsert(episode(3, 10));
  written.upsert(episode(4, 5));  // began and ended between two looks
  CHECK(seen(watch.poll()) == std::vector<std::string>{"2:ended", "3:ended", "4:began", "4:ended"});
  CHECK(watch.poll().empty());
}

TEST_CASE("PUTNOTIF lines: warning at the start, okay at the end, one line whatever the text") {
  EventRecord e = episode(7);
  const std::string began = putnotif_line({e, true}, "router-a", "conntrack_stats");
  CHECK(began == fmt::format("PUTNOTIF severity=warning time={} host=\"router-a\" plugin=nftables "
                             "plugin_instance=\"conntrack_stats\" type=episode type_instance=7 message=\"ctmon: "
                             "jitter episode 7 began: scan, score 0.88: tcp_conntrack_in_new rose to 412 pps "
                             "(usually 3)\"\n",
                             e.start_wall_ns / kNsPerS));
  e.end_wall_ns = e.start_wall_ns + 87 * kNsPerS;
  e.summary = "two\nlines";
  const std::string ended = putnotif_line({e, false}, "my \"router\"", "t");
  CHECK(ended == fmt::format("PUTNOTIF severity=okay time={} host=\"my \\\"router\\\"\" plugin=nftables "
                             "plugin_instance=\"t\" type=episode type_instance=7 message=\"ctmon: jitter episode 7 "
                             "ended after 1m27s: scan, peak score 0.88: two lines\"\n",
                             *e.end_wall_ns / kNsPerS));
}

}  // namespace
}  // namespace ctmon::cli

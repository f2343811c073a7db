#include <catch2/catch.hpp>

#include "monitor/store/database.h"
#include "monitor/store/event_store.h"
#include "monitor/store/meta_store.h"
#include "monitor/store/notify_outbox.h"
#include "monitor/store/outbox.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/store/state_store.h"
#include "temp_dir.h"

using namespace ctmon::store;
using ctmon::store::testing::TempDir;

namespace {
constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT = 1'764'201'600 * kS;

EventRecord event(std::int64_t id, std::int64_t start_s, std::optional<std::int64_t> end_s, double score,
                  const char* kind) {
  EventRecord e;
  e.id = id;
  e.start_wall_ns = kT + start_s * kS;
  if (end_s) e.end_wall_ns = kT + *end_s * kS;
  e.peak_score = score;
  e.kind = kind;
  e.summary = "tcp fwd invalid 34x";
  e.evidence_json = R"([{"counter":"tcp_conntrack_fwd_invalid","peak_pps":340,"baseline_pps":10}])";
  e.detectors = "ewma,mad";
  e.updated_wall_ns = e.start_wall_ns;
  return e;
}

std::vector<std::int64_t> ids(const std::vector<EventRecord>& v) {
  std::vector<std::int64_t> out;
  for (const auto& e : v) out.push_back(e.id);
  return out;
}
}  // namespace

TEST_CASE("an event upserted by id is created, then updated in place when it closes") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  EventStore events(db);
  CHECK(events.next_event_id() == 1);
  EventRecord e = event(1, 100, std::nullopt, 0.4, "invalid_burst");
  events.upsert(e);
  CHECK(events.get(1) == e);
  e.end_wall_ns = kT + 160 * kS;
  e.peak_score = 0.9;
  events.upsert(e);
  CHECK(events.get(1) == e);
  CHECK(events.list().size() == 1);
  CHECK(events.next_event_id() == 2);
  CHECK_FALSE(events.get(2).has_value());

  SECTION("it is durable for a reader in another connection at once") {
    const Database reader = Database::open(dir / "ctmon.db", reader_options());
    Database& r = const_cast<Database&>(reader);
    CHECK(EventStore(r).get(1) == e);
  }
}

TEST_CASE("events list newest first and filter by time, kind, score, open and limit") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  EventStore events(db);
  events.upsert(event(1, 0, 60, 0.3, "scan"));
  events.upsert(event(2, 1000, 1100, 0.8, "wan_drop"));
  events.upsert(event(3, 2000, std::nullopt, 0.6, "scan"));
  events.upsert(event(4, 3000, 3010, 0.95, "udp_storm"));

  CHECK(ids(events.list()) == std::vector<std::int64_t>{4, 3, 2, 1});
  CHECK(ids(events.list({.kind = "scan"})) == std::vector<std::int64_t>{3, 1});
  CHECK(ids(events.list({.min_score = 0.7})) == std::vector<std::int64_t>{4, 2});
  CHECK(ids(events.list({.open_only = true})) == std::vector<std::int64_t>{3});
  CHECK(ids(events.list({.limit = 2})) == std::vector<std::int64_t>{4, 3});
  // Overlap: 2 ended at 1100 (>= since 1050), 3 is still open, 1 ended before since.
  CHECK(ids(events.list({.since_wall_ns = kT + 1050 * kS, .until_wall_ns = kT + 2500 * kS})) ==
        std::vector<std::int64_t>{3, 2});
}

TEST_CASE("detector state is saved as one versioned blob and another version is not loaded") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  StateStore state(db);
  CHECK_FALSE(state.saved_version().has_value());
  CHECK_FALSE(state.load(1).has_value());
  state.save({1, kT, {1, 2, 3}});
  state.save({2, kT + kS, {9, 8}});  // replaces, never accumulates
  CHECK(state.saved_version() == 2);
  CHECK_FALSE(state.load(1).has_value());
  const auto got = state.load(2);
  REQUIRE(got.has_value());
  CHECK(got->data == std::vector<std::uint8_t>{9, 8});
  CHECK(got->saved_wall_ns == kT + kS);
  state.save({3, kT, {}});
  CHECK(state.load(3)->data.empty());
  state.clear();
  CHECK_FALSE(state.saved_version().has_value());
}

TEST_CASE("the outbox hands out markers first, then series, oldest first, and only when due") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  Outbox outbox(db);
  const std::vector<OutboxLine> lines = {{OutboxClass::kSeries, "s1"}, {OutboxClass::kMarker, "m1"},
                                         {OutboxClass::kSeries, "s2"}, {OutboxClass::kMarker, "m2"}};
  CHECK(outbox.enqueue(lines, kT) == 0);
  auto batch = outbox.peek(10, kT);
  REQUIRE(batch.size() == 4);
  CHECK(batch[0].line == "m1");
  CHECK(batch[1].line == "m2");
  CHECK(batch[2].line == "s1");
  CHECK(batch[3].line == "s2");
  CHECK(outbox.peek(3, kT).size() == 3);

  const std::int64_t m1 = batch[0].id, s1 = batch[2].id;
  outbox.defer(std::vector<std::int64_t>{m1}, kT + 60 * kS);
  batch = outbox.peek(10, kT + kS);
  REQUIRE(batch.size() == 3);
  CHECK(batch[0].line == "m2");
  batch = outbox.peek(10, kT + 60 * kS);
  REQUIRE(batch.size() == 4);
  CHECK(batch[0].line == "m1");
  CHECK(batch[0].attempts == 1);

  outbox.remove(std::vector<std::int64_t>{m1, s1});
  CHECK(outbox.size() == 2);
  CHECK(outbox.size(OutboxClass::kMarker) == 1);
  CHECK(outbox.size(OutboxClass::kSeries) == 1);
}

TEST_CASE("a full outbox evicts the oldest series before any marker") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  Outbox outbox(db, OutboxOptions{.max_rows = 5});
  outbox.enqueue(std::vector<OutboxLine>{{OutboxClass::kMarker, "m1"}, {OutboxClass::kSeries, "s1"},
                                         {OutboxClass::kSeries, "s2"}, {OutboxClass::kSeries, "s3"}},
                 kT);
  CHECK(outbox.enqueue(std::vector<OutboxLine>{{OutboxClass::kMarker, "m2"}, {OutboxClass::kSeries, "s4"},
                                               {OutboxClass::kSeries, "s5"}},
                       kT) == 2);
  std::vector<std::string> left;
  for (const auto& e : outbox.peek(10, kT)) left.push_back(e.line);
  CHECK(left == std::vector<std::string>{"m1", "m2", "s3", "s4", "s5"});

  SECTION("markers go only when nothing but markers is left") {
    std::vector<OutboxLine> markers;
    for (int i = 0; i < 6; ++i) markers.push_back({OutboxClass::kMarker, "n" + std::to_string(i)});
    CHECK(outbox.enqueue(markers, kT) == 6);
    CHECK(outbox.size(OutboxClass::kSeries) == 0);
    left.clear();
    for (const auto& e : outbox.peek(10, kT)) left.push_back(e.line);
    CHECK(left == std::vector<std::string>{"n1", "n2", "n3", "n4", "n5"});
  }
}

TEST_CASE("the notify outbox hands out the oldest first, keeps it across a reopen, and drops a repeat") {
  TempDir dir;
  const auto note = [](const char* id, const char* state) {
    Notification n;
    n.notification_id = id;
    n.created_wall_ns = kT;
    n.state = state;
    n.event = R"({"id":1})";
    return n;
  };
  {
    Database db = Database::open(dir / "ctmon.db");
    NotifyOutbox box(db);
    CHECK_FALSE(box.oldest());
    CHECK(box.enqueue(note("1-0-open", "open")));
    CHECK(box.enqueue(note("1-0-close", "close")));
    CHECK_FALSE(box.enqueue(note("1-0-open", "open")));  // the same notification twice: one row
    CHECK(box.size() == 2);
  }
  Database db = Database::open(dir / "ctmon.db");
  NotifyOutbox box(db);
  const auto first = box.oldest();
  REQUIRE(first);
  CHECK(first->notification_id == "1-0-open");
  CHECK(first->state == "open");
  CHECK(first->event == R"({"id":1})");
  box.mark_delivered(first->row, kT + 1);
  CHECK(box.oldest()->notification_id == "1-0-close");
  CHECK(box.size() == 1);
}

TEST_CASE("a delivered notification is never handed out or queued again, also after a reopen") {
  TempDir dir;
  Notification n;
  n.notification_id = "7-1000-open";
  n.created_wall_ns = kT;
  n.state = "open";
  n.event = R"({"id":7})";
  {
    Database db = Database::open(dir / "ctmon.db");
    NotifyOutbox box(db);
    REQUIRE(box.enqueue(n));
    box.mark_delivered(box.oldest()->row, kT + 1);
    CHECK_FALSE(box.oldest());
    CHECK(box.size() == 0);
  }
  Database db = Database::open(dir / "ctmon.db");
  NotifyOutbox box(db);
  CHECK_FALSE(box.oldest());
  CHECK_FALSE(box.enqueue(n));  // the same notification decided again after a restart
  CHECK_FALSE(box.oldest());
  CHECK(box.size() == 0);
}

TEST_CASE("delivered rows are kept only for the newest kKeepDelivered, refused ones are removed") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  NotifyOutbox box(db);
  const auto note = [](std::size_t i) {
    Notification n;
    n.notification_id = std::to_string(i) + "-0-open";
    n.state = "open";
    n.event = "{}";
    return n;
  };
  for (std::size_t i = 0; i < NotifyOutbox::kKeepDelivered + 5; ++i) {
    REQUIRE(box.enqueue(note(i)));
    box.mark_delivered(box.oldest()->row, kT);
  }
  Statement rows(db.handle(), "SELECT count(*) FROM notify_outbox");
  REQUIRE(rows.step());
  CHECK(rows.int64(0) == static_cast<std::int64_t>(NotifyOutbox::kKeepDelivered));
  CHECK(box.enqueue(note(0)));   // forgotten: long ago
  CHECK_FALSE(box.enqueue(note(NotifyOutbox::kKeepDelivered + 4)));  // remembered
  box.remove(box.oldest()->row);  // refused for good
  CHECK(box.size() == 0);
}

TEST_CASE("a full notify outbox drops its oldest rows") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  NotifyOutbox box(db);
  std::size_t evicted = 0;
  for (std::size_t i = 0; i < NotifyOutbox::kMaxRows + 3; ++i) {
    Notification n;
    n.notification_id = std::to_string(i) + "-0-open";
    n.state = "open";
    n.event = "{}";
    box.enqueue(n, &evicted);
  }
  CHECK(evicted == 1);
  CHECK(box.size() == NotifyOutbox::kMaxRows);
  CHECK(box.oldest()->notification_id == "3-0-open");
}

TEST_CASE("meta keeps text and integers and stats report the files and tables") {
  TempDir dir;
  Database db = Database::open(dir / "ctmon.db");
  MetaStore meta(db);
  meta.set("host", "router");
  meta.set("interval_ns", std::int64_t{5'000'000'000});
  CHECK(meta.get_text("host") == "router");
  CHECK(meta.get_int("interval_ns") == 5'000'000'000);
  CHECK_FALSE(meta.get_int("host").has_value());
  CHECK_FALSE(meta.get_text("missing").has_value());
  EventStore(db).upsert(event(1, 0, 1, 0.5, "scan"));
  const StoreStats s = store_stats(db, kT);
  CHECK(s.db_file_bytes > 0);
  CHECK(s.page_size == 4096);
  CHECK(s.events == 1);
  CHECK(s.raw_blocks == 0);
  CHECK_FALSE(s.bytes_written_since.has_value());
}

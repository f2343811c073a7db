#include "monitor/store/database.h"

#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "monitor/store/event_store.h"
#include "monitor/store/migrations.h"
#include "monitor/store/sqlite_handle.h"
#include "monitor/user_error.h"
#include "temp_dir.h"

using namespace ctmon::store;
using ctmon::UserError;
using ctmon::store::testing::file_bytes;
using ctmon::store::testing::TempDir;

namespace {

std::int64_t query_int(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  REQUIRE(st.step());
  return st.int64(0);
}

// Makes a plain SQLite file with the sqlite3 API (not through Database).
void make_sqlite(const std::filesystem::path& p, const char* sql) {
  ConnectionPtr db = open_connection(p.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  exec(db.get(), sql);
}

void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

// Opening must throw a UserError whose message contains each of `words`, and leave the
// directory's files and the database's bytes exactly as they were.
void require_refused_unchanged(const TempDir& dir, const std::filesystem::path& db,
                               std::initializer_list<const char*> words,
                               const DatabaseOptions& options = {}) {
  const auto files_before = dir.files();
  const auto bytes_before = file_bytes(db);
  try {
    (void)Database::open(db, options);
    FAIL("the database was accepted");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find('\n') == std::string::npos);
    for (const char* w : words) CHECK(msg.find(w) != std::string::npos);
  }
  CHECK(dir.files() == files_before);
  CHECK(file_bytes(db) == bytes_before);
}

}  // namespace

TEST_CASE("migrations are numbered 1..N without gaps and the last is the schema version") {
  const auto all = all_migrations();
  REQUIRE(!all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].version == static_cast<int>(i + 1));
  CHECK(latest_schema_version() == all.back().version);
}

TEST_CASE("a missing file is created and migrated to the latest schema in WAL mode") {
  TempDir dir;
  const Database db = Database::open(dir / "ctmon.db");
  CHECK(db.schema_version() == latest_schema_version());
  CHECK(query_int(db.handle(), "PRAGMA user_version") == latest_schema_version());
  CHECK(query_int(db.handle(), "PRAGMA application_id") == kApplicationId);
  CHECK(query_int(db.handle(), "PRAGMA synchronous") == 2);  // FULL
  Statement jm(db.handle(), "PRAGMA journal_mode");
  REQUIRE(jm.step());
  CHECK(jm.text(0) == "wal");
  for (const char* t :
       {"meta", "counters", "raw_blocks", "rollup_blocks", "events", "detector_state", "outbox", "notify_outbox"}) {
    INFO(t);
    Statement st(db.handle(), "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
    st.bind(1, std::string_view(t));
    REQUIRE(st.step());
    CHECK(st.int64(0) == 1);
  }
}

TEST_CASE("the schema is at version 3: 002 adds the webhook's outbox, 003 an episode's where") {
  CHECK(latest_schema_version() == 3);
  CHECK(all_migrations()[1].name == "002_notify_outbox.sql");
  CHECK(all_migrations()[2].name == "003_event_where.sql");
}

TEST_CASE("a version-1 database is migrated to the latest at open, keeping its rows") {
  TempDir dir;
  {
    // What a ctmon of schema 1 left: 001 applied by hand, with an InfluxDB line queued and an
    // episode stored before ctmon said where episodes are.
    ConnectionPtr raw = open_connection((dir / "ctmon.db").string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec(raw.get(), std::string(all_migrations()[0].sql));
    exec(raw.get(), "PRAGMA user_version = 1");
    exec(raw.get(), "INSERT INTO outbox (priority, created_wall_ns, line) VALUES (1, 5, 'm v=1')");
    exec(raw.get(), "INSERT INTO events (id, start_wall_ns, peak_score, kind, summary, evidence_json, detectors, "
                    "updated_wall_ns) VALUES (4, 1, 0.9, 'scan', 's', '[]', 'point', 1)");
  }
  {
    ConnectionPtr raw = open_connection((dir / "ctmon.db").string(), SQLITE_OPEN_READWRITE);
    REQUIRE(query_int(raw.get(), "PRAGMA user_version") == 1);
    REQUIRE(query_int(raw.get(), "SELECT count(*) FROM sqlite_schema WHERE name = 'notify_outbox'") == 0);
  }
  Database db = Database::open(dir / "ctmon.db");
  CHECK(db.schema_version() == latest_schema_version());
  const std::optional<EventRecord> old_event = EventStore(db).get(4);
  REQUIRE(old_event);
  CHECK(old_event->kind == "scan");
  CHECK(old_event->where == "unknown");
  CHECK(query_int(db.handle(), "SELECT count(*) FROM outbox WHERE line = 'm v=1'") == 1);
  exec(db.handle(), "INSERT INTO notify_outbox (notification_id, created_wall_ns, state, event) VALUES ('1-0-open', "
                    "1, 'open', '{}')");
  CHECK(query_int(db.handle(), "SELECT count(*) FROM notify_outbox") == 1);
}

TEST_CASE("a zero-length file is taken as a new database") {
  TempDir dir;
  write_file(dir / "ctmon.db", "");
  CHECK(Database::open(dir / "ctmon.db").schema_version() == latest_schema_version());
}

TEST_CASE("reopening a current database keeps its data and version") {
  TempDir dir;
  {
    const Database db = Database::open(dir / "ctmon.db");
    exec(db.handle(), "INSERT INTO meta VALUES ('host', 'router')");
  }
  const Database db = Database::open(dir / "ctmon.db");
  CHECK(db.schema_version() == latest_schema_version());
  CHECK(query_int(db.handle(), "SELECT count(*) FROM meta WHERE key = 'host'") == 1);
}

TEST_CASE("a database from a newer ctmon is refused and left byte for byte unchanged") {
  TempDir dir;
  { (void)Database::open(dir / "ctmon.db"); }
  {
    ConnectionPtr raw = open_connection((dir / "ctmon.db").string(), SQLITE_OPEN_READWRITE);
    exec(raw.get(), "PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  require_refused_unchanged(dir, dir / "ctmon.db", {"newer ctmon", "--reset-db"});
  require_refused_unchanged(dir, dir / "ctmon.db", {"newer ctmon"}, reader_options());
}

TEST_CASE("an SQLite database with foreign tables is refused and left unchanged") {
  TempDir dir;
  make_sqlite(dir / "other.db", "CREATE TABLE photos(id INTEGER PRIMARY KEY, path TEXT); "
                                "INSERT INTO photos VALUES (1, 'a.jpg')");
  require_refused_unchanged(dir, dir / "other.db", {"did not create", "photos", "--reset-db"});
  require_refused_unchanged(dir, dir / "other.db", {"did not create"}, reader_options());
}

TEST_CASE("an SQLite database of another application id is refused and left unchanged") {
  TempDir dir;
  make_sqlite(dir / "other.db", "PRAGMA application_id = 42");
  require_refused_unchanged(dir, dir / "other.db", {"did not create", "--reset-db"});
}

TEST_CASE("a file that is not SQLite at all is refused and left unchanged") {
  TempDir dir;
  write_file(dir / "ctmon.db", "timestamp,tcp_conntrack_fwd_new\n1700000000,5\n");
  require_refused_unchanged(dir, dir / "ctmon.db", {"not an SQLite database", "--reset-db"});
}

TEST_CASE("a truncated ctmon database is refused and left unchanged") {
  TempDir dir;
  {
    const Database db = Database::open(dir / "ctmon.db");
    exec(db.handle(), "CREATE TABLE IF NOT EXISTS filler(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                      "SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO meta SELECT 'k' || i, randomblob(200) FROM n");
    exec(db.handle(), "DROP TABLE filler; PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const auto size = std::filesystem::file_size(dir / "ctmon.db");
  REQUIRE(size > 64 * 1024);
  std::filesystem::resize_file(dir / "ctmon.db", size / 2);
  require_refused_unchanged(dir, dir / "ctmon.db", {"truncated", "--reset-db"});
}

TEST_CASE("a ctmon database with garbage over its pages is refused as corrupt") {
  TempDir dir;
  {
    const Database db = Database::open(dir / "ctmon.db");
    exec(db.handle(), "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                      "INSERT INTO meta SELECT 'k' || i, randomblob(200) FROM n");
    exec(db.handle(), "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  {
    std::fstream f(dir / "ctmon.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 3);
    const std::string junk(4096 * 4, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  require_refused_unchanged(dir, dir / "ctmon.db", {"corrupt", "--reset-db"});
}

TEST_CASE("a read-only open of a missing database says how to start and creates nothing") {
  TempDir dir;
  try {
    (void)Database::open(dir / "ctmon.db", reader_options());
    FAIL("opened");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find("ctmon run") != std::string::npos);
  }
  CHECK(dir.files().empty());
}

TEST_CASE("a reader beside a writer that holds the write lock reads the last committed state") {
  TempDir dir;
  Database writer = Database::open(dir / "ctmon.db");
  exec(writer.handle(), "INSERT INTO meta VALUES ('host', 'a')");
  Transaction tx(writer.handle());
  exec(writer.handle(), "INSERT INTO meta VALUES ('pending', 'b')");
  const Database reader = Database::open(dir / "ctmon.db", reader_options());
  CHECK(query_int(reader.handle(), "SELECT count(*) FROM meta") == 1);
  CHECK_THROWS_AS(exec(reader.handle(), "INSERT INTO meta VALUES ('x', 1)"), SqliteError);  // read-only
}

TEST_CASE("reset renames the database and its companions aside and never deletes") {
  TempDir dir;
  write_file(dir / "ctmon.db", "main");
  write_file(dir / "ctmon.db-wal", "wal");
  write_file(dir / "ctmon.db-shm", "shm");
  const auto when = std::chrono::system_clock::from_time_t(1'764'246'896);  // 2025-11-27 12:34:56Z
  const auto moved = reset_database(dir / "ctmon.db", when);
  REQUIRE(moved.size() == 3);
  CHECK(dir.files() == std::vector<std::string>{"ctmon.db.reset-20251127T123456Z",
                                                "ctmon.db.reset-20251127T123456Z-shm",
                                                "ctmon.db.reset-20251127T123456Z-wal"});
  CHECK(file_bytes(dir / "ctmon.db.reset-20251127T123456Z-wal") == std::vector<char>{'w', 'a', 'l'});

  SECTION("a second reset in the same second picks a new name instead of overwriting") {
    write_file(dir / "ctmon.db", "second");
    const auto again = reset_database(dir / "ctmon.db", when);
    REQUIRE(again.size() == 1);
    CHECK(again[0].filename() == "ctmon.db.reset-20251127T123456Z-1");
    CHECK(file_bytes(dir / "ctmon.db.reset-20251127T123456Z") == std::vector<char>{'m', 'a', 'i', 'n'});
  }
  SECTION("after a reset a fresh database is created") {
    CHECK(Database::open(dir / "ctmon.db").schema_version() == latest_schema_version());
  }
}

TEST_CASE("reset of a missing database moves nothing") {
  TempDir dir;
  CHECK(reset_database(dir / "ctmon.db", std::chrono::system_clock::now()).empty());
}

namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The umask of a typical service (022) for one scope, so the modes below are ctmon's own.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("a new database, its -wal and -shm are 0640: the group may read, others nothing") {
  const Umask umask(022);
  TempDir dir;
  const Database db = Database::open(dir / "ctmon.db");
  exec(db.handle(), "INSERT INTO meta VALUES ('host', 'router')");
  REQUIRE(std::filesystem::exists(dir / "ctmon.db-wal"));
  REQUIRE(std::filesystem::exists(dir / "ctmon.db-shm"));
  CHECK(mode_of(dir / "ctmon.db") == 0640);
  CHECK(mode_of(dir / "ctmon.db-wal") == 0640);
  CHECK(mode_of(dir / "ctmon.db-shm") == 0640);
}

TEST_CASE("an existing world-readable database and its companions lose others' permissions") {
  const Umask umask(022);
  TempDir dir;
  {
    const Database db = Database::open(dir / "ctmon.db");
    exec(db.handle(), "INSERT INTO meta VALUES ('host', 'router')");
    // A connection that is still open keeps -wal and -shm while they are re-moded below.
    for (const char* f : {"ctmon.db", "ctmon.db-wal", "ctmon.db-shm"}) REQUIRE(::chmod((dir / f).c_str(), 0666) == 0);
    const Database second = Database::open(dir / "ctmon.db");
    for (const char* f : {"ctmon.db", "ctmon.db-wal", "ctmon.db-shm"}) {
      INFO(f);
      CHECK(mode_of(dir / f) == 0640);
    }
  }
  // A stricter mode chosen by the owner stays.
  REQUIRE(::chmod((dir / "ctmon.db").c_str(), 0600) == 0);
  (void)Database::open(dir / "ctmon.db");
  CHECK(mode_of(dir / "ctmon.db") == 0600);
}

TEST_CASE("a reader never changes the database's mode") {
  const Umask umask(022);
  TempDir dir;
  { (void)Database::open(dir / "ctmon.db"); }
  REQUIRE(::chmod((dir / "ctmon.db").c_str(), 0644) == 0);
  (void)Database::open(dir / "ctmon.db", reader_options());
  CHECK(mode_of(dir / "ctmon.db") == 0644);
}

TEST_CASE("the database folder is created 0750, leaving existing folders alone") {
  const Umask umask(022);
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  create_database_folder(dir / "a/b/ctmon.db");
  CHECK(mode_of(dir / "a") == 0750);
  CHECK(mode_of(dir / "a/b") == 0750);
  CHECK(mode_of(dir.path()) == 0755);
  create_database_folder(dir / "a/b/ctmon.db");  // all there: nothing to do
  write_file(dir / "file", "x");
  try {
    create_database_folder(dir / "file/sub/ctmon.db");
    FAIL("a folder was created under a file");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("cannot create the database folder") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

namespace {

// Runs `body` in a child process as user and group nobody (65534), as a CLI user who is not
// root; returns the UserError message it got ("" when opening worked). Needs root to switch.
std::string as_nobody(const std::function<void()>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg;
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
      msg = "setuid failed";
    } else {
      try {
        body();
      } catch (const std::exception& e) {
        msg = e.what();
        if (msg.empty()) msg = "?";
      }
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return msg;
}

}  // namespace

TEST_CASE("a file this user may not read is reported as such, not as foreign or corrupt") {
  if (::geteuid() != 0) {
    WARN("not root: cannot switch to another user; skipped");
    return;
  }
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  { (void)Database::open(dir / "ctmon.db"); }
  REQUIRE(::chmod((dir / "ctmon.db").c_str(), 0600) == 0);  // root's alone
  for (const auto& options : {DatabaseOptions{}, reader_options()}) {
    const std::string msg = as_nobody([&] { (void)Database::open(dir / "ctmon.db", options); });
    INFO(msg);
    CHECK(msg.find("cannot read") != std::string::npos);
    CHECK(msg.find("Permission denied") != std::string::npos);
    CHECK(msg.find("not an SQLite database") == std::string::npos);
    CHECK(msg.find("--reset-db") == std::string::npos);
  }
}

TEST_CASE("a member of the database's group reads it from a folder it may not write") {
  if (::geteuid() != 0) {
    WARN("not root: cannot switch to another user; skipped");
    return;
  }
  TempDir dir;
  {
    const Database db = Database::open(dir / "ctmon.db");
    exec(db.handle(), "INSERT INTO meta VALUES ('host', 'router')");
  }  // the daemon stopped: no -wal, no -shm for the reader to use
  // As the packaged service leaves them: folder 0750 and file 0640, group of the CLI users.
  REQUIRE(::chown(dir.path().c_str(), 0, 65534) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0750) == 0);
  REQUIRE(::chown((dir / "ctmon.db").c_str(), 0, 65534) == 0);
  const std::string msg = as_nobody([&] {
    const Database db = Database::open(dir / "ctmon.db", reader_options());
    Statement st(db.handle(), "SELECT value FROM meta WHERE key = 'host'");
    if (!st.step() || st.text(0) != "router") throw std::runtime_error("wrong content");
  });
  CHECK(msg.empty());
  CHECK(dir.files() == std::vector<std::string>{"ctmon.db"});
}

TEST_CASE("readers of a database whose -wal was deleted under its writer are told so") {
  TempDir dir;
  const Database writer = Database::open(dir / "ctmon.db");
  exec(writer.handle(), "INSERT INTO meta VALUES ('host', 'router')");
  REQUIRE(std::filesystem::remove(dir / "ctmon.db-wal"));
  try {
    (void)Database::open(dir / "ctmon.db", reader_options());
    FAIL("opened");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("-wal") != std::string::npos);
    CHECK(msg.find("missing") != std::string::npos);
    CHECK(msg.find("schema 0") == std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("each kind of SQLite failure gets its own advice; only a broken file is to be moved aside") {
  const std::filesystem::path p = "/var/lib/ctmon/ctmon.db";
  const auto message = [&](int code) {
    try {
      rethrow_as_user_error(p, SqliteError(code, "step: some reason"));
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("not a UserError");
  };
  const std::string io = message(SQLITE_IOERR_READ);
  CHECK(io.find("input/output error") != std::string::npos);
  CHECK(io.find("--reset-db") == std::string::npos);
  CHECK(io.find("not an SQLite database") == std::string::npos);
  const std::string cantopen = message(SQLITE_CANTOPEN);
  CHECK(cantopen.find("cannot open") != std::string::npos);
  CHECK(cantopen.find("--reset-db") == std::string::npos);
  const std::string readonly = message(SQLITE_READONLY_DIRECTORY);
  CHECK(readonly.find("read-only") != std::string::npos);
  CHECK(readonly.find("--reset-db") == std::string::npos);
  const std::string notadb = message(SQLITE_NOTADB);
  CHECK(notadb.find("not an SQLite database") != std::string::npos);
  CHECK(notadb.find("--reset-db") != std::string::npos);
  const std::string corrupt = message(SQLITE_CORRUPT);
  CHECK(corrupt.find("corrupt") != std::string::npos);
  CHECK(corrupt.find("--reset-db") != std::string::npos);
  for (const auto* m : {&io, &cantopen, &readonly, &notadb, &corrupt}) CHECK(m->find('\n') == std::string::npos);
}

namespace {

std::int64_t meta_rows(const std::filesystem::path& db) {
  const Database reader = Database::open(db, reader_options());
  return query_int(reader.handle(), "SELECT count(*) FROM meta WHERE key LIKE 'k%'");
}

// A writer that committed `rows` rows, all still in its -wal (no checkpoint yet).
Database writer_with_rows(const std::filesystem::path& path, int rows) {
  Database db = Database::open(path);
  for (int i = 0; i < rows; ++i) exec(db.handle(), "INSERT INTO meta VALUES ('k" + std::to_string(i) + "', 'v')");
  return db;
}

}  // namespace

TEST_CASE("a database whose files are all in place has not moved") {
  TempDir dir;
  const Database db = writer_with_rows(dir / "ctmon.db", 3);
  CHECK_FALSE(db.moved());
  CHECK_FALSE(Database::open(dir / "ctmon.db", reader_options()).moved());
}

TEST_CASE("a reader notices when another file was put at its path") {
  TempDir dir;
  const Database db = writer_with_rows(dir / "ctmon.db", 3);
  const Database reader = Database::open(dir / "ctmon.db", reader_options());
  CHECK_FALSE(reader.moved());
  // As `ctmon run --reset-db` does: the file moves aside and a new one takes its place.
  (void)reset_database(dir / "ctmon.db", std::chrono::system_clock::now());
  (void)writer_with_rows(dir / "ctmon.db", 1);
  CHECK(reader.moved() == "the database file was deleted, moved or replaced");
}

TEST_CASE("a deleted database file is noticed and restored with everything committed") {
  TempDir dir;
  Database db = writer_with_rows(dir / "ctmon.db", 5);
  REQUIRE(std::filesystem::remove(dir / "ctmon.db"));
  exec(db.handle(), "INSERT INTO meta VALUES ('k5', 'written after the delete')");
  const auto gone = db.moved();
  REQUIRE(gone);
  CHECK(gone->find("database file") != std::string::npos);
  CHECK(Database::restore(std::move(db), std::chrono::system_clock::now()) == dir / "ctmon.db");
  CHECK(meta_rows(dir / "ctmon.db") == 6);
  CHECK(dir.files() == std::vector<std::string>{"ctmon.db"});
  CHECK(mode_of(dir / "ctmon.db") == 0640);
  const Database again = Database::open(dir / "ctmon.db");  // a complete ctmon database again
  CHECK_FALSE(again.moved());
}

TEST_CASE("a deleted -wal is noticed and what only it held is restored") {
  TempDir dir;
  Database db = writer_with_rows(dir / "ctmon.db", 5);
  REQUIRE(std::filesystem::remove(dir / "ctmon.db-wal"));
  const auto gone = db.moved();
  REQUIRE(gone);
  CHECK(gone->find("-wal") != std::string::npos);
  (void)Database::restore(std::move(db), std::chrono::system_clock::now());
  CHECK(meta_rows(dir / "ctmon.db") == 5);
}

TEST_CASE("a deleted -shm is noticed") {
  TempDir dir;
  Database db = writer_with_rows(dir / "ctmon.db", 1);
  REQUIRE(std::filesystem::remove(dir / "ctmon.db-shm"));
  const auto gone = db.moved();
  REQUIRE(gone);
  CHECK(gone->find("-shm") != std::string::npos);
}

TEST_CASE("a file put at the path meanwhile is left alone; the copy is kept beside it") {
  TempDir dir;
  Database db = writer_with_rows(dir / "ctmon.db", 2);
  REQUIRE(std::filesystem::remove(dir / "ctmon.db"));
  write_file(dir / "ctmon.db", "someone else's");
  REQUIRE(db.moved());
  try {
    (void)Database::restore(std::move(db), std::chrono::system_clock::from_time_t(1'764'201'600));
    FAIL("restored over another file");
  } catch (const UserError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("ctmon.db.restored-20251127T000000Z") != std::string::npos);
  }
  CHECK(file_bytes(dir / "ctmon.db") == std::vector<char>{'s', 'o', 'm', 'e', 'o', 'n', 'e', ' ', 'e', 'l', 's',
                                                           'e', '\'', 's'});
  CHECK(meta_rows(dir / "ctmon.db.restored-20251127T000000Z") == 2);
}

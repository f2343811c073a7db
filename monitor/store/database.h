#pragma once
// Opening ctmon's SQLite file: recognise it, refuse what is not ours (never modifying it),
// migrate it to the current schema, and set the PRAGMAs the flash budget was measured with
// (schema/README.md, "PRAGMAs"). Also the explicit way out for a broken file: reset_database.

#include <sqlite3.h>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

enum class AccessMode {
  kReadWrite,  ///< the daemon (one writer): creates and migrates the file
  kReadOnly,   ///< CLI readers beside the daemon: never write, wait out the writer's locks
};

/// How the daemon's write connection coordinates with readers; see schema/README.md for the
/// measured cost of each. kNormal is the default because the CLI must read while the daemon runs.
enum class LockingMode { kNormal, kExclusive };

struct DatabaseOptions {
  AccessMode mode = AccessMode::kReadWrite;
  /// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
  /// Readers: long (a daemon commit takes milliseconds; a user never sees "database is locked").
  /// The writer: short, so a stuck lock delays a sampling tick by at most this much; the sample
  /// writer keeps data in RAM and retries instead.
  int busy_timeout_ms = 200;
  LockingMode locking = LockingMode::kNormal;
  /// WAL pages after which SQLite checkpoints on commit (PRAGMA wal_autocheckpoint).
  int wal_autocheckpoint_pages = 100;
  /// Read-write only: run PRAGMA quick_check before using the file and refuse it when damaged.
  bool verify_on_open = true;
  /// Open through the counting VFS (counting_vfs.h) so bytes written are known.
  bool count_io = true;
};

/// Default options for a CLI reader: read-only, 5 s busy timeout, no verification.
[[nodiscard]] DatabaseOptions reader_options();

/// One open connection to a ctmon database at the current schema version. Movable, not copyable;
/// closes the connection on destruction. Single-threaded use, like the SQLite connection it owns.
class Database {
 public:
  /// Opens (read-write: creating when missing) the ctmon database at `path`.
  /// Refuses, without modifying the file (nor creating -wal/-shm beside it), and throws
  /// ctmon::UserError with a one-line message that says how to move the file aside when:
  ///  - the file is not an SQLite database, or is truncated or corrupt;
  ///  - it is an SQLite database that ctmon did not create (foreign tables, other application id);
  ///  - it was written by a newer ctmon (user_version above latest_schema_version()).
  /// Read-only mode also refuses a missing file, and one at an older schema (the daemon upgrades
  /// it). Read-write mode applies the pending migrations and sets the PRAGMAs.
  /// File modes (read-write mode): a new file is created 0640 (further narrowed by the umask),
  /// and an existing file, -wal and -shm lose group write and every permission of others
  /// (0644 becomes 0640): samples and episodes show what the network does, so the owner writes,
  /// the group may read (put CLI users in it), others get nothing. SQLite creates -wal and -shm
  /// with the database file's mode.
  /// Other failures (permissions, I/O) throw UserError naming the path and SQLite's reason.
  static Database open(const std::filesystem::path& path, const DatabaseOptions& options = {});

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database() = default;

  /// The connection, owned by this object; valid for its lifetime.
  [[nodiscard]] sqlite3* handle() const { return db_.get(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] AccessMode mode() const { return mode_; }
  /// PRAGMA user_version after opening (== latest_schema_version()).
  [[nodiscard]] int schema_version() const { return schema_version_; }

  /// Whether what this connection writes still reaches the files at path(): nullopt when it
  /// does; otherwise what is gone, as a phrase for a log line ("the database file was deleted,
  /// moved or replaced", "its -wal file was deleted", "its -shm file was deleted"). Someone
  /// deleting them leaves a writer that commits into files nobody can open again, and readers
  /// that see nothing or stale data. SQLite's SQLITE_FCNTL_HAS_MOVED and a stat of -wal and
  /// -shm: microseconds, so it can follow every commit. A reader is told only about the database
  /// file itself (a reader that watches the daemon's database reopens it then).
  [[nodiscard]] std::optional<std::string> moved() const;

  /// What to do after moved() said something is gone: writes everything this connection still
  /// sees (all committed data, including what only its open -wal holds) into a complete new
  /// file with VACUUM INTO, closes the connection, removes a -wal/-shm left at path() (they
  /// belong to the old file, and SQLite would replay that -wal onto the new one), and puts the
  /// new file at path() with mode 0640. Open it again with open(). Returns path(). When another
  /// file has meanwhile appeared at path() it is left alone: the copy stays as
  /// "<path>.restored-<UTC stamp>" and UserError says so. Throws UserError when the copy cannot
  /// be written (disk full, folder gone); the connection is closed either way.
  static std::filesystem::path restore(Database&& db, std::chrono::system_clock::time_point now);

 private:
  Database(ConnectionPtr db, std::filesystem::path path, AccessMode mode, int version)
      : db_(std::move(db)), path_(std::move(path)), mode_(mode), schema_version_(version) {}

  ConnectionPtr db_;
  std::filesystem::path path_;
  AccessMode mode_;
  int schema_version_;
  bool uses_shm_ = false;  // normal locking mode: -shm must exist while the connection is open
  dev_t dev_ = 0;          // the file opened at path(), to tell it from one put there later
  ino_t ino_ = 0;
};

/// Creates the missing folders above the database file `db_path` with mode 0750 (narrowed by the
/// umask), so a group may reach the database and others may not. Existing folders are left as
/// they are. Throws UserError naming the folder when one cannot be created.
void create_database_folder(const std::filesystem::path& db_path);

/// Moves the database at `path` aside for `--reset-db`: renames it, and its -wal, -shm and
/// -journal companions, to "<path>.reset-YYYYMMDDTHHMMSSZ" (+ "-wal" ...), UTC of `now`, with a
/// "-N" added if that name exists. Never deletes and never overwrites. Returns the new paths
/// (empty when nothing was there). Throws UserError when a rename fails; files renamed before the
/// failure stay renamed (and are named in the message). Stop the daemon first: a process that
/// has the file open keeps writing to the renamed file.
std::vector<std::filesystem::path> reset_database(const std::filesystem::path& path,
                                                  std::chrono::system_clock::time_point now);

/// Turns an SQLite failure on an open database into the one-line UserError a user should see
/// (corrupt file: how to move it aside; full disk; locked), or rethrows other errors unchanged.
/// Call from a catch block: `catch (const SqliteError& e) { rethrow_as_user_error(path, e); }`.
[[noreturn]] void rethrow_as_user_error(const std::filesystem::path& path, const SqliteError& e);

}  // namespace ctmon::store

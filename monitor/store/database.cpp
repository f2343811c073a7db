#include "monitor/store/database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <system_error>

#include "monitor/store/counting_vfs.h"
#include "monitor/store/migrations.h"
#include "monitor/user_error.h"

namespace ctmon::store {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMoveAside =
    "move it aside with `ctmon run --reset-db` (renames it, never deletes) or choose another "
    "file with --db";

std::string quoted(const fs::path& p) { return p.string(); }

// The fixed 100-byte header every SQLite database starts with (sqlite.org/fileformat.html).
struct SqliteHeader {
  std::uint32_t page_size = 0;
  std::uint32_t page_count = 0;  // valid when change_counter == valid_for
  std::uint32_t change_counter = 0, valid_for = 0;
  std::int32_t user_version = 0;
  std::int32_t application_id = 0;
  bool wal_mode = false;  // file format version bytes 18 and 19 both 2
};

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Why `path` cannot be read, with what to do; `err` is the errno of the failed open or read.
std::string unreadable(const fs::path& path, int err) {
  const std::string why = std::generic_category().message(err);
  if (err == EACCES || err == EPERM)
    return "cannot read " + quoted(path) + ": " + why +
           "; run ctmon as the database's owner or as a member of its group (`ls -l` shows them)";
  if (err == EIO)
    return "cannot read " + quoted(path) + ": " + why +
           " (the storage may be failing: see `dmesg`); the file was not changed";
  return "cannot read " + quoted(path) + ": " + why + "; check the path and the storage it is on";
}

// Reads and checks the header without SQLite, so nothing can touch the file. Throws UserError
// for anything that is not a plausible SQLite database, and for a file that cannot be read
// (saying so: an unreadable file is not a foreign one, and moving it aside would not help).
// `wal_present`: a writer may be checkpointing right now, growing the file and rewriting its
// header between our stat() and our read, so the size cannot be judged; SQLite itself will.
SqliteHeader read_header(const fs::path& path, std::uintmax_t file_size, bool wal_present) {
  unsigned char h[100] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(unreadable(path, errno));
  std::size_t got = 0;
  int read_error = 0;
  while (got < sizeof h) {
    const ssize_t n = ::read(fd, h + got, sizeof h - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_error = errno;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (read_error != 0) throw UserError(unreadable(path, read_error));
  static const char kMagic[16] = "SQLite format 3";  // with its terminating NUL: 16 bytes
  if (got < sizeof h ||
      std::char_traits<char>::compare(reinterpret_cast<const char*>(h), kMagic, 16) != 0)
    throw UserError(quoted(path) + " is not an SQLite database (wrong header or too short); " +
                    kMoveAside);
  SqliteHeader hd;
  hd.page_size = (std::uint32_t{h[16]} << 8) | h[17];
  if (hd.page_size == 1) hd.page_size = 65536;
  hd.change_counter = be32(h + 24);
  hd.page_count = be32(h + 28);
  hd.valid_for = be32(h + 92);
  hd.user_version = static_cast<std::int32_t>(be32(h + 60));
  hd.application_id = static_cast<std::int32_t>(be32(h + 68));
  hd.wal_mode = h[18] == 2 && h[19] == 2;
  if (hd.page_size < 512 || (hd.page_size & (hd.page_size - 1)) != 0)
    throw UserError(quoted(path) + " is a corrupt SQLite database (bad page size in its header); " +
                    kMoveAside);
  if (!wal_present && hd.change_counter == hd.valid_for && hd.page_count > 0 &&
      std::uintmax_t{hd.page_count} * hd.page_size > file_size)
    throw UserError(quoted(path) + " is truncated (" + std::to_string(file_size) +
                    " bytes, its header says " + std::to_string(std::uintmax_t{hd.page_count} * hd.page_size) +
                    "); " + kMoveAside);
  return hd;
}

[[noreturn]] void refuse_newer(const fs::path& path, int version) {
  throw UserError(quoted(path) + " was written by a newer ctmon (schema " + std::to_string(version) +
                  ", this ctmon knows up to " + std::to_string(latest_schema_version()) +
                  "); upgrade ctmon, or " + kMoveAside);
}
[[noreturn]] void refuse_foreign(const fs::path& path, const std::string& why) {
  throw UserError(quoted(path) + " is an SQLite database that ctmon did not create (" + why + "); " +
                  kMoveAside);
}

std::int64_t pragma_int(sqlite3* db, const char* pragma) {
  Statement st(db, std::string("PRAGMA ") + pragma);
  return st.step() ? st.int64(0) : 0;
}

// Which state an existing file is in, judged through SQLite (this sees a WAL's newer content,
// which the raw header may not).
enum class Kind { kEmpty, kCtmon, kForeign };
struct Inspection {
  Kind kind = Kind::kEmpty;
  int version = 0;
  std::string why;
};

Inspection inspect(sqlite3* db) {
  Inspection r;
  const auto app = static_cast<std::int32_t>(pragma_int(db, "application_id"));
  r.version = static_cast<int>(pragma_int(db, "user_version"));
  Statement st(db, "SELECT count(*), group_concat(name, ', ') FROM (SELECT name FROM sqlite_schema "
                   "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 4)");
  st.step();
  const std::int64_t tables = st.int64(0);
  if (app == kApplicationId) {
    r.kind = Kind::kCtmon;
  } else if (app != 0) {
    r.kind = Kind::kForeign;
    r.why = "application id " + std::to_string(app);
  } else if (tables > 0 || r.version != 0) {
    r.kind = Kind::kForeign;
    r.why = tables > 0 ? "tables " + st.text(1) : "user_version " + std::to_string(r.version);
  }
  return r;
}

// "file:" URI for sqlite3_open_v2, escaping what a URI would otherwise interpret.
std::string file_uri(const fs::path& path, const char* query) {
  std::string out = "file:";
  for (const char c : fs::absolute(path).string()) {
    if (c == '?' || c == '#' || c == '%') {
      static const char kHex[] = "0123456789abcdef";
      out += '%';
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
      out += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out + query;
}

void quick_check(sqlite3* db, const fs::path& path) {
  Statement st(db, "PRAGMA quick_check(1)");
  std::string verdict = st.step() ? st.text(0) : "no answer";
  for (char& c : verdict)
    if (c == '\n') c = ' ';  // the user's error is one line
  if (verdict != "ok")
    throw UserError(quoted(path) + " is a corrupt SQLite database (" + verdict.substr(0, 80) +
                    "); " + kMoveAside);
}

void set_pragmas(sqlite3* db, const DatabaseOptions& o) {
  // Order matters: locking_mode must precede the first WAL access to keep -shm out of use.
  if (o.locking == LockingMode::kExclusive) exec(db, "PRAGMA locking_mode = EXCLUSIVE");
  exec(db, "PRAGMA page_size = 4096");  // only takes effect on a new file
  Statement jm(db, "PRAGMA journal_mode = WAL");
  if (!jm.step() || jm.text(0) != "wal")
    throw SqliteError(SQLITE_CANTOPEN, "cannot switch to WAL journal mode (got " + jm.text(0) + ")");
  exec(db, "PRAGMA synchronous = FULL");
  exec(db, "PRAGMA wal_autocheckpoint = " + std::to_string(o.wal_autocheckpoint_pages));
  // After a checkpoint the WAL is reused from its start; cap what it keeps on disk.
  exec(db, "PRAGMA journal_size_limit = " + std::to_string(4 * 1024 * 1024));
  exec(db, "PRAGMA foreign_keys = OFF");
}

constexpr mode_t kDatabaseFileMode = 0640;
constexpr mode_t kDatabaseFolderMode = 0750;
// Permissions ctmon takes away from existing files: group write, everything of others.
constexpr mode_t kNotForOthers = 0027;

// Creates the empty database file with ctmon's mode before SQLite does (SQLite would use 0644).
// Racing another creator is fine: whoever made it, the file then exists.
void create_private_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kDatabaseFileMode);
  if (fd >= 0) {
    ::close(fd);
  } else if (errno != EEXIST) {
    throw UserError("cannot create " + quoted(path) + ": " + std::generic_category().message(errno) +
                    "; check the path, its folder and permissions, or pass --db with a writable path");
  }
}

// Takes group write and others' permissions away from an existing file (a no-op when they
// are not there, or when the file is not ours to change: SQLite then reports what matters).
void narrow_mode(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & kNotForOthers) == 0) return;
  (void)::chmod(path.c_str(), st.st_mode & 07777 & ~kNotForOthers);
}

fs::path folder_of(const fs::path& path) {
  const fs::path folder = fs::absolute(path).parent_path();
  return folder.empty() ? fs::path("/") : folder;
}

bool on_read_only_file_system(const fs::path& path) {
  struct statvfs st {};
  return ::statvfs(folder_of(path).c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

std::string utc_stamp(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

DatabaseOptions reader_options() {
  DatabaseOptions o;
  o.mode = AccessMode::kReadOnly;
  o.busy_timeout_ms = 5000;
  o.verify_on_open = false;
  return o;
}

Database Database::open(const fs::path& path, const DatabaseOptions& options) {
  const bool ro = options.mode == AccessMode::kReadOnly;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  const bool exists = fs::exists(status);
  if (exists && !fs::is_regular_file(status))
    throw UserError(quoted(path) + " is not a regular file; pass --db with a database file path");
  const std::uintmax_t size = exists ? fs::file_size(path, ec) : 0;
  if (!exists && ro)
    throw UserError("no ctmon database at " + quoted(path) +
                    "; start the daemon (`ctmon run`) first, or pass --db with the right path");
  if (!ro && on_read_only_file_system(path))
    throw UserError(quoted(path) + " is on a read-only file system; `ctmon run` needs to write it: "
                    "remount it read-write or pass --db on a writable one (`ctmon events`, `series`, "
                    "`show` and `status` can still read it)");
  const char* vfs = options.count_io ? counting_vfs_name() : nullptr;
  // A reader that may not create -shm beside the file (read-only file system, or a folder this
  // user may not write) can open a WAL database only as immutable, which SQLite allows when no
  // -wal exists: then no writer has the file open and nothing can change under the reader.
  const bool wal_exists = fs::exists(path.string() + "-wal", ec);
  const bool reader_immutable =
      ro && !wal_exists && (on_read_only_file_system(path) || ::access(folder_of(path).c_str(), W_OK) != 0);

  try {
    if (exists && size > 0) {
      const SqliteHeader hd = read_header(path, size, wal_exists);
      if (hd.application_id != 0 && hd.application_id != kApplicationId)
        refuse_foreign(path, "application id " + std::to_string(hd.application_id));
      if (hd.application_id == kApplicationId && hd.user_version > latest_schema_version())
        refuse_newer(path, hd.user_version);
      // Judge the file through a read-only connection: it neither checkpoints nor rolls back
      // anything, so a file we refuse is left exactly as it was.
      // Without a -wal file nobody has it open in WAL mode, and immutable=1 keeps SQLite from
      // creating -wal/-shm files beside a database that may not be ours.
      const bool has_wal = fs::exists(path.string() + "-wal", ec);
      ConnectionPtr probe = open_connection(file_uri(path, has_wal ? "?mode=ro" : "?mode=ro&immutable=1"),
                                            SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, vfs);
      sqlite3_busy_timeout(probe.get(), std::max(options.busy_timeout_ms, 1000));
      const Inspection in = inspect(probe.get());
      if (in.kind == Kind::kForeign) refuse_foreign(path, in.why);
      if (in.kind == Kind::kCtmon && in.version > latest_schema_version())
        refuse_newer(path, in.version);
      if (ro && in.kind == Kind::kEmpty && hd.wal_mode && !has_wal)
        throw UserError(quoted(path) + " holds no ctmon data on disk: it is in WAL mode but its -wal "
                        "file, which holds what was written since the last checkpoint, is missing "
                        "(deleted?); a daemon still running on it has the data: see its log");
      if (ro && (in.kind != Kind::kCtmon || in.version < latest_schema_version()))
        throw UserError(quoted(path) + " has not been set up by this ctmon yet (schema " +
                        std::to_string(in.version) + "); start the daemon (`ctmon run`) once to upgrade it");
      if (!ro && options.verify_on_open) quick_check(probe.get(), path);
    } else if (ro) {
      throw UserError(quoted(path) + " is empty; start the daemon (`ctmon run`) first");
    }

    if (!ro) {
      if (!exists) create_private_file(path);
      for (const char* companion : {"", "-wal", "-shm"}) narrow_mode(path.string() + companion);
    }
    const int flags = ro ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ConnectionPtr db = reader_immutable
                           ? open_connection(file_uri(path, "?mode=ro&immutable=1"),
                                             flags | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, vfs)
                           : open_connection(path.string(), flags | SQLITE_OPEN_NOMUTEX, vfs);
    sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
    int version = 0;
    if (ro) {
      version = static_cast<int>(pragma_int(db.get(), "user_version"));
    } else {
      set_pragmas(db.get(), options);
      // Check again under the write lock: another ctmon may have migrated meanwhile.
      version = static_cast<int>(pragma_int(db.get(), "user_version"));
      if (version > latest_schema_version()) refuse_newer(path, version);
      version = apply_migrations(db.get(), version);
    }
    Database opened(std::move(db), path, options.mode, version);
    opened.uses_shm_ = !ro && options.locking == LockingMode::kNormal;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      opened.dev_ = st.st_dev;
      opened.ino_ = st.st_ino;
    }
    return opened;
  } catch (const SqliteError& e) {
    rethrow_as_user_error(path, e);
  }
}

std::optional<std::string> Database::moved() const {
  int has_moved = 0;
  if (sqlite3_file_control(db_.get(), "main", SQLITE_FCNTL_HAS_MOVED, &has_moved) == SQLITE_OK && has_moved != 0)
    return "the database file was deleted, moved or replaced";
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_)
    return "the database file was deleted, moved or replaced";
  // A reader may have opened without -wal or -shm (nothing wrote since the last checkpoint).
  if (mode_ != AccessMode::kReadWrite) return std::nullopt;
  // A read-write connection is in WAL mode (set_pragmas), and opening it already read through
  // the WAL, which creates -wal; SQLite truncates it after checkpoints but removes it only when
  // the last connection closes.
  if (::access((path_.string() + "-wal").c_str(), F_OK) != 0) return "its -wal file was deleted";
  if (uses_shm_ && ::access((path_.string() + "-shm").c_str(), F_OK) != 0) return "its -shm file was deleted";
  return std::nullopt;
}

fs::path Database::restore(Database&& db, std::chrono::system_clock::time_point now) {
  const fs::path path = db.path_;
  const dev_t dev = db.dev_;
  const ino_t ino = db.ino_;
  const std::string copy = path.string() + ".restore-tmp";
  ::unlink(copy.c_str());  // a copy left by an earlier attempt is incomplete
  try {
    Statement vacuum(db.handle(), "VACUUM INTO ?");
    vacuum.bind(1, std::string_view(copy));
    vacuum.run();
  } catch (const SqliteError& e) {
    ::unlink(copy.c_str());
    db.db_.reset();
    throw UserError("cannot write the database back to " + quoted(path) + " (" + e.what() +
                    "); what was not saved before is lost");
  }
  db.db_.reset();  // closes: SQLite may checkpoint into, and remove, files that are no longer ours
  (void)::chmod(copy.c_str(), kDatabaseFileMode);
  struct stat st {};
  const bool occupied = ::lstat(path.c_str(), &st) == 0;
  if (occupied && (st.st_dev != dev || st.st_ino != ino)) {
    const std::string kept = path.string() + ".restored-" + utc_stamp(now);
    if (renameat2(AT_FDCWD, copy.c_str(), AT_FDCWD, kept.c_str(), RENAME_NOREPLACE) != 0)
      throw UserError("another file appeared at " + quoted(path) + " and the copy of the database " + copy +
                      " could not be renamed: " + std::generic_category().message(errno));
    throw UserError("another file appeared at " + quoted(path) + " while the daemon was writing it; "
                    "left it alone and saved everything the daemon had as " + kept);
  }
  for (const char* companion : {"-wal", "-shm"}) ::unlink((path.string() + companion).c_str());
  if (::rename(copy.c_str(), path.c_str()) != 0)
    throw UserError("cannot put the copy of the database " + copy + " at " + quoted(path) + ": " +
                    std::generic_category().message(errno));
  return path;
}

void rethrow_as_user_error(const fs::path& path, const SqliteError& e) {
  std::string why = e.what();
  for (char& c : why)
    if (c == '\n') c = ' ';
  switch (e.code()) {
    case SQLITE_CORRUPT:
      throw UserError(quoted(path) + " is a corrupt SQLite database (" + why + "); " + kMoveAside);
    case SQLITE_NOTADB:
      throw UserError(quoted(path) + " is not an SQLite database (" + why + "); " + kMoveAside);
    case SQLITE_FULL:
      throw UserError("the disk holding " + quoted(path) + " is full; free some space");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw UserError(quoted(path) + " is locked by another process for too long (" + why +
                      "); is a second ctmon daemon running on it?");
    case SQLITE_IOERR:
      // The file may be perfectly fine: never advise moving it aside for a failing read or write.
      throw UserError("input/output error on " + quoted(path) + " (" + why +
                      "); the storage may be failing or was removed (see `dmesg`); the database "
                      "file itself may be intact");
    case SQLITE_READONLY:
      throw UserError(quoted(path) + " cannot be written (" + why +
                      "): the file, its folder or its file system is read-only for this user; "
                      "`ctmon run` needs to write it, the reading commands do not");
    case SQLITE_CANTOPEN:
      throw UserError("cannot open " + quoted(path) + " (" + why +
                      "); check that its folder exists and that this user may read it (and, for "
                      "`ctmon run`, write it and create files beside it)");
    case SQLITE_PERM:
      throw UserError("not allowed to use " + quoted(path) + " (" + why +
                      "); check the permissions of the file and its folder");
    default:
      throw e;
  }
}

void create_database_folder(const fs::path& db_path) {
  const fs::path folder = fs::absolute(db_path).parent_path();
  std::vector<fs::path> missing;
  for (fs::path p = folder; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (::mkdir(it->c_str(), kDatabaseFolderMode) != 0 && errno != EEXIST)
      throw UserError("cannot create the database folder " + it->string() + ": " +
                      std::generic_category().message(errno) + "; create it or pass --db with a writable path");
}

std::vector<fs::path> reset_database(const fs::path& path, std::chrono::system_clock::time_point now) {
  const std::string base = path.string() + ".reset-" + utc_stamp(now);
  static const char* const kCompanions[] = {"", "-wal", "-shm", "-journal"};
  // Pick one suffix free for all companions, so the moved files still belong together
  // (SQLite finds "<db>-wal" beside "<db>").
  std::string target = base;
  for (int n = 1;; ++n) {
    bool free = true;
    for (const char* c : kCompanions) free = free && !fs::exists(target + c);
    if (free) break;
    target = base + "-" + std::to_string(n);
  }
  std::vector<fs::path> moved;
  for (const char* c : kCompanions) {
    const std::string from = path.string() + c;
    if (!fs::exists(from)) continue;
    const std::string to = target + c;
    // renameat2(RENAME_NOREPLACE): never overwrite, even if a file appeared since the check.
    if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
      std::string done;
      for (const auto& m : moved) done += " " + m.string();
      throw UserError("cannot move " + from + " aside to " + to + ": " +
                      std::generic_category().message(errno) +
                      (done.empty() ? std::string() : "; already moved:" + done));
    }
    moved.emplace_back(to);
  }
  return moved;
}

}  // namespace ctmon::store

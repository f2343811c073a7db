#pragma once
// RAII ownership of the two SQLite handles, sqlite3 and sqlite3_stmt, and the one exception type
// for SQLite failures. Everything else in the store talks to SQLite through these, so no handle
// can leak and no SQLite error can pass unnoticed (there is no error path that aborts).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctmon::store {

/// A failed SQLite call. `code()` is the primary result code (SQLITE_BUSY, SQLITE_FULL, ...),
/// `extended_code()` the extended one. what() is "<context>: <sqlite message>".
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int extended_code, const std::string& message)
      : std::runtime_error(message), extended_code_(extended_code) {}
  [[nodiscard]] int code() const { return extended_code_ & 0xff; }
  [[nodiscard]] int extended_code() const { return extended_code_; }

 private:
  int extended_code_;
};

/// Throws SqliteError built from `db`'s last error when `rc` is not SQLITE_OK/ROW/DONE.
void check(sqlite3* db, int rc, std::string_view context);

struct ConnectionCloser {
  void operator()(sqlite3* db) const noexcept;  // sqlite3_close_v2: never fails on live stmts
};
/// Owns one sqlite3 connection.
using ConnectionPtr = std::unique_ptr<sqlite3, ConnectionCloser>;

/// Opens `path` with sqlite3_open_v2 `flags` (and `vfs`, nullptr = default). Returns the owned
/// connection; throws SqliteError (the half-opened handle is closed) on failure.
ConnectionPtr open_connection(const std::string& path, int flags, const char* vfs = nullptr);

/// Runs one or more SQL statements that return no rows of interest. Throws SqliteError.
void exec(sqlite3* db, std::string_view sql);

/// One prepared statement, owned. Bind indexes start at 1, column indexes at 0 (SQLite's own).
/// The connection must outlive the statement.
class Statement {
 public:
  /// Prepares `sql` on `db`; throws SqliteError when it does not compile.
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);          // copied by SQLite
  Statement& bind_blob(int index, std::span<const std::uint8_t> blob);  // copied by SQLite
  Statement& bind_null(int index);
  Statement& bind(int index, std::optional<std::int64_t> value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  /// Steps once. Returns true when a row is available, false when done; throws SqliteError.
  bool step();
  /// Steps until done, for statements that return no rows. Throws SqliteError.
  void run() {
    while (step()) {
    }
  }
  /// Resets the statement and clears its bindings, ready to bind and step again.
  void reset();

  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] double real(int col) const;
  [[nodiscard]] std::string text(int col) const;
  /// The blob of column `col`; valid until the next step/reset.
  [[nodiscard]] std::span<const std::uint8_t> blob(int col) const;

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

/// A write transaction: BEGIN IMMEDIATE on construction (takes the write lock up front, so a
/// busy database fails here and not halfway), ROLLBACK in the destructor unless commit() ran.
class Transaction {
 public:
  /// Throws SqliteError (e.g. SQLITE_BUSY after the connection's busy timeout).
  explicit Transaction(sqlite3* db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  /// Commits; throws SqliteError (the transaction is then rolled back by the destructor).
  void commit();

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace ctmon::store

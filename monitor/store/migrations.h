#pragma once
// The schema migrations, schema/NNN_name.sql, embedded byte for byte at build time and applied
// in order, each in its own transaction that also sets PRAGMA user_version = NNN.

#include <sqlite3.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace ctmon::store {

/// SQLite's application_id for ctmon databases ('ctmn'); set by schema/001_init.sql.
inline constexpr std::int32_t kApplicationId = 0x63746d6e;

struct Migration {
  int version;            ///< NNN of the file name: the user_version after applying it
  std::string_view name;  ///< file name, e.g. "001_init.sql"
  std::string_view sql;   ///< the file's text
};

/// Every embedded migration, ordered by version (1, 2, ... without gaps: checked by a test).
[[nodiscard]] std::span<const Migration> all_migrations();

/// The schema version this build writes: the last migration's version.
[[nodiscard]] int latest_schema_version();

/// Applies every migration above `from_version` to `db`, each in a BEGIN IMMEDIATE transaction.
/// Returns the new version. Throws SqliteError when one fails (that one is rolled back; the ones
/// before it stay applied, which is consistent because each sets its own user_version).
int apply_migrations(sqlite3* db, int from_version);

}  // namespace ctmon::store

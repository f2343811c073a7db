#include "monitor/store/migrations.h"

#include <string>

#include "monitor/store/schema_list.h"
#include "monitor/store/sqlite_handle.h"

namespace ctmon::store {

std::span<const Migration> all_migrations() { return kEmbeddedMigrations; }

int latest_schema_version() {
  const auto all = all_migrations();
  return all.empty() ? 0 : all.back().version;
}

int apply_migrations(sqlite3* db, int from_version) {
  int version = from_version;
  for (const Migration& m : all_migrations()) {
    if (m.version <= version) continue;
    Transaction tx(db);
    exec(db, m.sql);
    exec(db, "PRAGMA user_version = " + std::to_string(m.version));
    tx.commit();
    version = m.version;
  }
  return version;
}

}  // namespace ctmon::store

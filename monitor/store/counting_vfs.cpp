#include "monitor/store/counting_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace ctmon::store {
namespace {

struct Totals {
  std::atomic<std::uint64_t> main_db{0}, wal{0}, journal{0}, writes{0}, syncs{0}, shm_maps{0};
};
Totals g_totals;

enum class Kind { kMainDb, kWal, kOther };

// SQLite allocates szOsFile bytes per open file: our header, then the real VFS's file right
// after it (aligned), so no allocation of our own is needed.
struct CountingFile {
  sqlite3_file base;     // must be first: SQLite sees this
  sqlite3_file* real;    // points just past this struct
  Kind kind;
};

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;
constexpr std::size_t kHeader = (sizeof(CountingFile) + 15) & ~std::size_t{15};

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<CountingFile*>(f)->real; }

int x_close(sqlite3_file* f) {
  const int rc = real(f)->pMethods ? real(f)->pMethods->xClose(real(f)) : SQLITE_OK;
  f->pMethods = nullptr;
  return rc;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real(f)->pMethods->xRead(real(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  const int rc = real(f)->pMethods->xWrite(real(f), buf, n, off);
  if (rc == SQLITE_OK) {
    const auto bytes = static_cast<std::uint64_t>(n);
    switch (reinterpret_cast<CountingFile*>(f)->kind) {
      case Kind::kMainDb: g_totals.main_db.fetch_add(bytes, std::memory_order_relaxed); break;
      case Kind::kWal: g_totals.wal.fetch_add(bytes, std::memory_order_relaxed); break;
      case Kind::kOther: g_totals.journal.fetch_add(bytes, std::memory_order_relaxed); break;
    }
    g_totals.writes.fetch_add(1, std::memory_order_relaxed);
  }
  return rc;
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real(f)->pMethods->xTruncate(real(f), size); }
int x_sync(sqlite3_file* f, int flags) {
  g_totals.syncs.fetch_add(1, std::memory_order_relaxed);
  return real(f)->pMethods->xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int x_check_reserved(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int x_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** pp) {
  g_totals.shm_maps.fetch_add(1, std::memory_order_relaxed);
  return real(f)->pMethods->xShmMap(real(f), region, size, extend, pp);
}
int x_shm_lock(sqlite3_file* f, int off, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), off, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int x_shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** pp) {
  return real(f)->pMethods->xFetch(real(f), off, n, pp);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), off, p);
}

// Version 3 methods; a real file with fewer methods gets the same table with the extra ones
// nulled (SQLite checks iVersion before calling them).
const sqlite3_io_methods kMethods3 = {3, x_close, x_read, x_write, x_truncate, x_sync, x_file_size,
                                      x_lock, x_unlock, x_check_reserved, x_file_control,
                                      x_sector_size, x_device_characteristics, x_shm_map,
                                      x_shm_lock, x_shm_barrier, x_shm_unmap, x_fetch, x_unfetch};
const sqlite3_io_methods kMethods2 = {2, x_close, x_read, x_write, x_truncate, x_sync, x_file_size,
                                      x_lock, x_unlock, x_check_reserved, x_file_control,
                                      x_sector_size, x_device_characteristics, x_shm_map,
                                      x_shm_lock, x_shm_barrier, x_shm_unmap, nullptr, nullptr};
const sqlite3_io_methods kMethods1 = {1, x_close, x_read, x_write, x_truncate, x_sync, x_file_size,
                                      x_lock, x_unlock, x_check_reserved, x_file_control,
                                      x_sector_size, x_device_characteristics, nullptr, nullptr,
                                      nullptr, nullptr, nullptr, nullptr};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* cf = reinterpret_cast<CountingFile*>(f);
  cf->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kHeader);
  cf->kind = (flags & SQLITE_OPEN_MAIN_DB) ? Kind::kMainDb
             : (flags & SQLITE_OPEN_WAL)   ? Kind::kWal
                                           : Kind::kOther;
  cf->real->pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, cf->real, flags, out_flags);
  if (cf->real->pMethods == nullptr) {
    f->pMethods = nullptr;  // nothing to close
  } else {
    const int v = cf->real->pMethods->iVersion;
    f->pMethods = v >= 3 ? &kMethods3 : v == 2 ? &kMethods2 : &kMethods1;
  }
  return rc;
}

// The remaining VFS methods go straight to the real VFS.
int x_delete(sqlite3_vfs*, const char* n, int sync) { return g_real->xDelete(g_real, n, sync); }
int x_access(sqlite3_vfs*, const char* n, int flags, int* out) {
  return g_real->xAccess(g_real, n, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* n, int size, char* out) {
  return g_real->xFullPathname(g_real, n, size, out);
}
void* x_dl_open(sqlite3_vfs*, const char* n) { return g_real->xDlOpen(g_real, n); }
void x_dl_error(sqlite3_vfs*, int n, char* msg) { g_real->xDlError(g_real, n, msg); }
void (*x_dl_sym(sqlite3_vfs*, void* h, const char* s))(void) { return g_real->xDlSym(g_real, h, s); }
void x_dl_close(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int x_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int x_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int x_current_time(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* t) {
  return g_real->xCurrentTimeInt64(g_real, t);
}

const char* register_vfs() {
  g_real = sqlite3_vfs_find(nullptr);
  if (g_real == nullptr) throw std::runtime_error("SQLite has no default VFS");
  std::memset(&g_vfs, 0, sizeof g_vfs);
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(kHeader) + g_real->szOsFile;
  g_vfs.mxPathname = g_real->mxPathname;
  g_vfs.zName = "ctmon-counting";
  g_vfs.xOpen = x_open;
  g_vfs.xDelete = x_delete;
  g_vfs.xAccess = x_access;
  g_vfs.xFullPathname = x_full_pathname;
  g_vfs.xDlOpen = x_dl_open;
  g_vfs.xDlError = x_dl_error;
  g_vfs.xDlSym = x_dl_sym;
  g_vfs.xDlClose = x_dl_close;
  g_vfs.xRandomness = x_randomness;
  g_vfs.xSleep = x_sleep;
  g_vfs.xCurrentTime = x_current_time;
  g_vfs.xGetLastError = x_get_last_error;
  g_vfs.xCurrentTimeInt64 = x_current_time_int64;
  const int rc = sqlite3_vfs_register(&g_vfs, 0);
  if (rc != SQLITE_OK) throw std::runtime_error("cannot register the counting SQLite VFS");
  return g_vfs.zName;
}

}  // namespace

const char* counting_vfs_name() {
  static const char* const name = register_vfs();  // C++ guarantees one thread-safe init
  return name;
}

IoCounters io_counters() {
  IoCounters c;
  c.main_db_bytes = g_totals.main_db.load(std::memory_order_relaxed);
  c.wal_bytes = g_totals.wal.load(std::memory_order_relaxed);
  c.journal_bytes = g_totals.journal.load(std::memory_order_relaxed);
  c.writes = g_totals.writes.load(std::memory_order_relaxed);
  c.syncs = g_totals.syncs.load(std::memory_order_relaxed);
  c.shm_maps = g_totals.shm_maps.load(std::memory_order_relaxed);
  return c;
}

void reset_io_counters() {
  for (auto* a : {&g_totals.main_db, &g_totals.wal, &g_totals.journal, &g_totals.writes,
                  &g_totals.syncs, &g_totals.shm_maps})
    a->store(0, std::memory_order_relaxed);
}

}  // namespace ctmon::store

// The embedded default store: one SQLite database file in WAL mode, with schema migrations
// applied at open. Only this module includes sqlite3.h.
#pragma once

#include "store/space_reserve.h"
#include "store/store.h"

#include <functional>

namespace tide::store {

// Opens (creating when absent) the database at path and migrates it to the current schema.
// Errors: "InternalError" naming the file when it cannot be opened, is not a tide database, or
// was written by a newer tide (schema version above the one this binary knows).
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path);

struct SqliteStoreOptions {
  // How long a transaction waits for the write lock another connection holds, per try, and how
  // many tries it makes before the caller gets InternalError.
  int busyTimeoutMs = 5000;
  int beginAttempts = 3;
  // The reserve kept for deletes on a full file system (space_reserve.h); 0: none. Always none
  // for ":memory:".
  int64_t reserveBytes = kDefaultReserveBytes;
  // For tests: a registered SQLite VFS to open the file with ("" = the default).
  std::string vfs;
  // For tests: asked before each statement the store runs itself (BEGIN IMMEDIATE, COMMIT,
  // ROLLBACK, PRAGMAs); a result other than SQLITE_OK (0) is taken as the statement's result
  // and the statement is not run.
  std::function<int(const char* sql)> faultHook;
};
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options);

// The schema version this binary writes.
int currentSchemaVersion();

} // namespace tide::store

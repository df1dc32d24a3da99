// The embedded default store: one SQLite database file in WAL mode, with schema migrations
// applied at open. Only this module includes sqlite3.h.
#pragma once

#include "store/store.h"

namespace tide::store {

// Opens (creating when absent) the database at path and migrates it to the current schema.
// Errors: "InternalError" naming the file when it cannot be opened, is not a tide database, or
// was written by a newer tide (schema version above the one this binary knows).
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path);

// The schema version this binary writes.
int currentSchemaVersion();

} // namespace tide::store

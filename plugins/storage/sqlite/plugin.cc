// The entry point of libscaleout_storage_sqlite.so. Kept apart from the
// driver sources so that tests can compile the driver in without a second
// copy of the exported symbol.
#include "scaleout/sdk/plugin.h"
#include "plugins/storage/sqlite/storage.h"

SCALEOUT_PLUGIN(kStorage, "sqlite", "0.1.0", "SQLite catalog driver: one database file, WAL",
                scaleout::plugins::sqlite::SqliteStorage)

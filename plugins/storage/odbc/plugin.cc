// The entry point of libscaleout_storage_odbc.so. Kept apart from the driver
// sources so that tests can compile the driver in without a second copy of
// the exported symbol.
#include "scaleout/sdk/plugin.h"
#include "plugins/storage/odbc/storage.h"

SCALEOUT_PLUGIN(kStorage, "odbc", "0.1.0",
                "ODBC catalog driver: PostgreSQL (shared server) or SQLite via unixODBC",
                scaleout::plugins::odbc::OdbcStorage)

// The catalog schema and its migrations.
//
// Migrations are numbered from 1 (migration 1 = the whole schema) and are
// applied on open, all pending ones in one write transaction, recording each
// in schema_version. The DDL is portable SQL with the Dialect's type names
// substituted; core queries never use database-specific syntax except where
// the Dialect says so (the table listing used to recognise an empty database).
//
// Refusals (kFailedPrecondition, nothing changed):
//  - a catalog whose schema_version is newer than kSchemaVersion:
//    "catalog schema version N is newer than this build supports (M); upgrade scaleout"
//  - a database that has tables but no schema_version table:
//    "... is not a scaleout catalog ..."
#ifndef SCALEOUT_CORE_CATALOG_SCHEMA_H_
#define SCALEOUT_CORE_CATALOG_SCHEMA_H_

#include <cstdint>
#include <memory>
#include <string>

#include "core/common/clock.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::core::catalog {

// The newest schema this build knows.
inline constexpr std::int64_t kSchemaVersion = 6;

// `sql` with {INT64} {DOUBLE} {TEXT} {BLOB} {ID_PK} replaced by the dialect's spelling.
std::string SubstituteDialect(std::string_view sql, const sdk::Dialect& dialect);

// The applied schema version: 0 for an empty database.
// Errors: kFailedPrecondition when the database has tables but is not a catalog.
// REQUIRES: inside a transaction (or autocommit) on `connection`.
sdk::Result<std::int64_t> ReadSchemaVersion(sdk::Connection& connection,
                                            const sdk::Dialect& dialect);

// Applies every pending migration in one write transaction it owns.
// REQUIRES: `connection` is not in a transaction.
sdk::Status Migrate(sdk::Connection& connection, const sdk::Dialect& dialect, std::int64_t now);

// Migrate, but only up to `target_version` (1 to kSchemaVersion): makes an
// older catalog, for testing the later migrations. A catalog already at or
// past `target_version` is left as it is (a newer one is still refused).
// Errors: kInvalidArgument for a version this build does not have.
sdk::Status MigrateTo(sdk::Connection& connection, const sdk::Dialect& dialect, std::int64_t now,
                      std::int64_t target_version);

// Opens a connection on `storage` and migrates it: what the master (and the
// tests) do on start. The connection is the caller's; it must not outlive `storage`.
sdk::Result<std::unique_ptr<sdk::Connection>> OpenCatalog(sdk::Storage& storage,
                                                          const Clock& clock);

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_SCHEMA_H_

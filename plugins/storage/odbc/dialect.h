// The SQL dialects storage/odbc speaks, and how it picks one.
//
// The driver is asked for its DBMS name (SQLGetInfo SQL_DBMS_NAME) once, at
// Start(); "PostgreSQL" and "SQLite" are supported. The config key `dialect`
// can force one (for a server that speaks PostgreSQL under another name).
//
// Thread-safety: stateless functions.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_DIALECT_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_DIALECT_H_

#include <string_view>

#include "plugins/storage/odbc/options.h"
#include "scaleout/sdk/status.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::odbc {

sdk::Dialect PostgresqlDialect();
// SQLite through its ODBC driver: the types of storage/sqlite, but no
// RETURNING (the driver reports no result columns for INSERT ... RETURNING).
sdk::Dialect SqliteDialect();

// Picks the dialect for a database that calls itself `dbms_name`. With
// kAuto an unknown name is kUnimplemented, naming it and what is supported.
sdk::Result<sdk::Dialect> ChooseDialect(DialectChoice choice, std::string_view dbms_name);

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_DIALECT_H_

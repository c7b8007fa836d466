// OdbcStorage: the storage/odbc plugin object, a catalog in any ODBC data
// source whose database is PostgreSQL or SQLite.
//
// Create() parses and checks the config section (no driver is loaded);
// Start() connects once, asks the driver which database it is
// (SQL_DBMS_NAME) to pick the dialect, and checks a fully configured
// connection; Open() hands out independent connections.
//
// Ownership: created by the host through the plugin descriptor; the host's
// Logger outlives it. The ODBC environment is shared with the connections and
// freed after the last one. Thread-safety: Open(), GetDialect() and
// Describe() may be called from any thread at once after Start() (they read
// state fixed by Start()). Start() and Stop() are called from one thread.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_STORAGE_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_STORAGE_H_

#include <atomic>
#include <memory>
#include <string>

#include "plugins/storage/odbc/connection.h"
#include "plugins/storage/odbc/options.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::odbc {

class OdbcStorage final : public sdk::Storage {
 public:
  // Validates the config section; fails naming the bad key.
  static sdk::Result<std::unique_ptr<OdbcStorage>> Create(const sdk::PluginContext& context);

  OdbcStorage(Options options, sdk::Logger* logger);

  sdk::Status Start() override;
  void Stop() noexcept override;
  // The configured dialect before Start() (empty name with dialect=auto), the
  // detected one after.
  const sdk::Dialect& GetDialect() const override { return dialect_; }
  // REQUIRES: Start() returned OK (otherwise kFailedPrecondition).
  sdk::Result<std::unique_ptr<sdk::Connection>> Open() override;
  // "odbc PostgreSQL 15.0.20 via Driver={PostgreSQL Unicode};...;Pwd=***".
  std::string Describe() const override;

  const Options& options() const noexcept { return options_; }
  // The DBMS name the driver reported at Start() ("PostgreSQL", "SQLite").
  const std::string& dbms_name() const noexcept { return dbms_name_; }

 private:
  const Options options_;
  sdk::Logger* const logger_;  // borrowed; outlives this object
  const ErrorContext context_;
  sdk::Dialect dialect_;
  std::string dbms_name_;
  std::string dbms_version_;
  std::shared_ptr<const ConnectionSettings> settings_;  // set by Start()
  std::atomic<bool> started_{false};
};

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_STORAGE_H_

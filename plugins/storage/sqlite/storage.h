// SqliteStorage: the storage/sqlite plugin object, a catalog in one file.
//
// Create() parses and checks the config section (no file is touched);
// Start() opens one connection to prove the file is usable and is an SQLite
// database; Open() hands out independent connections with the configured
// settings.
//
// Ownership: created by the host through the plugin descriptor; the host's
// Logger outlives it. Thread-safety: Open(), GetDialect() and Describe() may
// be called from any thread at once (they read immutable state and each
// connection has its own sqlite3 handle). Start() and Stop() are called by
// the host from one thread.
#ifndef SCALEOUT_PLUGINS_STORAGE_SQLITE_STORAGE_H_
#define SCALEOUT_PLUGINS_STORAGE_SQLITE_STORAGE_H_

#include <atomic>
#include <memory>
#include <string>

#include "plugins/storage/sqlite/options.h"
#include "scaleout/sdk/logger.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::sqlite {

class SqliteStorage final : public sdk::Storage {
 public:
  // Validates the config section; fails naming the bad key.
  static sdk::Result<std::unique_ptr<SqliteStorage>> Create(const sdk::PluginContext& context);

  SqliteStorage(Options options, sdk::Logger* logger);

  sdk::Status Start() override;
  void Stop() noexcept override;
  const sdk::Dialect& GetDialect() const override { return dialect_; }
  // REQUIRES: Start() returned OK (otherwise kFailedPrecondition).
  sdk::Result<std::unique_ptr<sdk::Connection>> Open() override;
  std::string Describe() const override;

  const Options& options() const noexcept { return options_; }

 private:
  const Options options_;
  sdk::Logger* const logger_;  // borrowed; outlives this object
  const sdk::Dialect dialect_;
  std::atomic<bool> started_{false};
};

}  // namespace scaleout::plugins::sqlite

#endif  // SCALEOUT_PLUGINS_STORAGE_SQLITE_STORAGE_H_

// storage/null: a storage plugin that stores nothing. It starts, describes
// itself and reports a dialect, but refuses to open connections; it exists so
// the loader and the host's wiring can be tested without a database.
#include <memory>
#include <string>

#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/storage.h"

namespace scaleout::plugins::null_storage {

class NullStorage final : public sdk::Storage {
 public:
  // Takes no settings: any key in its config section is a typo.
  static sdk::Result<std::unique_ptr<NullStorage>> Create(const sdk::PluginContext& context) {
    SCALEOUT_RETURN_IF_ERROR(context.config->CheckKnownKeys({}));
    return std::make_unique<NullStorage>();
  }

  NullStorage() {
    dialect_.name = "null";
    dialect_.int64_type = "INTEGER";
    dialect_.double_type = "REAL";
    dialect_.text_type = "TEXT";
    dialect_.blob_type = "BLOB";
    dialect_.identity_primary_key = "INTEGER PRIMARY KEY";
  }

  sdk::Status Start() override { return sdk::Status::Ok(); }
  void Stop() noexcept override {}
  const sdk::Dialect& GetDialect() const override { return dialect_; }

  sdk::Result<std::unique_ptr<sdk::Connection>> Open() override {
    return sdk::Status::Unimplemented(
        "storage/null keeps no data and cannot open connections; configure a real storage "
        "plugin for the catalog, such as storage/sqlite");
  }

  std::string Describe() const override { return "null storage (no database)"; }

 private:
  sdk::Dialect dialect_;
};

}  // namespace scaleout::plugins::null_storage

SCALEOUT_PLUGIN(kStorage, "null", "0.1.0", "Stores nothing; for loader and wiring tests",
                scaleout::plugins::null_storage::NullStorage)

#include "plugins/storage/odbc/storage.h"

#include <sqlext.h>

#include <utility>

#include "plugins/storage/odbc/dialect.h"

namespace scaleout::plugins::odbc {

using sdk::Result;
using sdk::Status;

namespace {

ErrorContext MakeContext(const Options& options) {
  ErrorContext context;
  const std::string driver = options.connection.Driver();
  context.target =
      (driver.empty() ? std::string("ODBC data source") : "ODBC driver '" + driver + "'") + " (" +
      options.connection.Redacted() + ")";
  context.user = options.connection.User();
  context.driver = driver;
  return context;
}

sdk::Dialect InitialDialect(DialectChoice choice) {
  Result<sdk::Dialect> dialect = ChooseDialect(choice, "");
  return dialect.ok() ? *dialect : sdk::Dialect{};
}

}  // namespace

Result<std::unique_ptr<OdbcStorage>> OdbcStorage::Create(const sdk::PluginContext& context) {
  SCALEOUT_ASSIGN_OR_RETURN(Options options, ParseOptions(*context.config));
  return std::make_unique<OdbcStorage>(std::move(options), context.logger);
}

OdbcStorage::OdbcStorage(Options options, sdk::Logger* logger)
    : options_(std::move(options)),
      logger_(logger),
      context_(MakeContext(options_)),
      dialect_(InitialDialect(options_.dialect)) {}

Status OdbcStorage::Start() {
  SCALEOUT_ASSIGN_OR_RETURN(std::shared_ptr<Environment> environment, Environment::Create());
  {
    // One link to learn which database this is, before any statement runs.
    SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<Link> probe,
                              Link::Connect(*environment, options_, context_));
    dbms_name_ = probe->Info(SQL_DBMS_NAME);
    dbms_version_ = probe->Info(SQL_DBMS_VER);
  }
  SCALEOUT_ASSIGN_OR_RETURN(dialect_, ChooseDialect(options_.dialect, dbms_name_));
  auto settings = std::make_shared<ConnectionSettings>();
  settings->environment = std::move(environment);
  settings->options = options_;
  settings->context = context_;
  settings->context.target = dbms_name_ + " through " + context_.target;
  settings->dialect = dialect_;
  settings->logger = logger_;
  settings_ = std::move(settings);
  // A fully configured connection proves every later Open() can work.
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<OdbcConnection> check, OdbcConnection::Open(settings_));
  check.reset();
  started_.store(true, std::memory_order_release);
  if (logger_->Enabled(sdk::LogLevel::kInfo)) {
    logger_->Info("storage/odbc: using " + Describe() + " (dialect " + dialect_.name +
                  (options_.dialect == DialectChoice::kAuto ? ", detected" : ", configured") +
                  ", reconnect_attempts=" + std::to_string(options_.reconnect_attempts) + ")");
  }
  if (options_.dialect != DialectChoice::kAuto) {
    Result<sdk::Dialect> detected = ChooseDialect(DialectChoice::kAuto, dbms_name_);
    if (!detected.ok() || detected->name != dialect_.name) {
      logger_->Warn("storage/odbc: dialect=" + dialect_.name +
                    " is configured but the driver "
                    "reports a '" +
                    dbms_name_ + "' database");
    }
  }
  return Status::Ok();
}

void OdbcStorage::Stop() noexcept { started_.store(false, std::memory_order_release); }

Result<std::unique_ptr<sdk::Connection>> OdbcStorage::Open() {
  if (!started_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition("storage/odbc: Open() called before Start() succeeded");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::unique_ptr<OdbcConnection> connection,
                            OdbcConnection::Open(settings_));
  return std::unique_ptr<sdk::Connection>(std::move(connection));
}

std::string OdbcStorage::Describe() const {
  std::string out = "odbc ";
  if (!dbms_name_.empty()) out += dbms_name_ + " " + dbms_version_ + " ";
  return out + "via " + options_.connection.Redacted();
}

}  // namespace scaleout::plugins::odbc

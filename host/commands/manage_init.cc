#include "host/commands/manage_init.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "core/catalog/schema.h"
#include "core/catalog/sensitive_values.h"
#include "core/catalog/transaction.h"
#include "core/common/clock.h"
#include "core/common/dir_lock.h"
#include "core/common/logging.h"
#include "core/management/service.h"
#include "core/master/catalog_key_file.h"
#include "core/master/settings.h"
#include "core/security/certificates.h"
#include "host/commands/command_util.h"
#include "host/plugin_loader.h"

namespace scaleout::host {
namespace {

namespace po = boost::program_options;

constexpr const char* kInitUsage =
    "Usage: scaleout master init --config FILE [--set Key=Value]... [--admin NAME]\n"
    "\n"
    "Creates the catalog (SSISDB) if it does not exist and the first admin\n"
    "principal (role ssis_admin) with a fresh API token, printed once with how\n"
    "to use it. The master does the same on its first start; init lets you do\n"
    "it before, from a script. A catalog that has principals is left as is.\n";

constexpr const char* kRotateUsage =
    "Usage: scaleout master rotate-key --config FILE [--set Key=Value]...\n"
    "\n"
    "Seals every sensitive value in the catalog again with a new catalog key\n"
    "(SSISDB's ALTER MASTER KEY REGENERATE) and puts the new key in\n"
    "CatalogEncryptionKeyFile; the old one is kept beside it as\n"
    "<file>.retired-<key id>. Run it with every master of the catalog stopped,\n"
    "then copy the new key file to the other masters. Run again after an\n"
    "interruption, it finishes the rotation.\n";

int Fail(const std::string& command, const std::string& message) {
  std::cerr << "scaleout master " << command << ": " << message << "\n";
  return kExitFailed;
}

// The master's catalog storage, started, for a command run beside (not in)
// the master. `loader` owns the plugin and must outlive the result.
sdk::Result<PluginPtr<sdk::Storage>> StartCatalogStorage(
    const core::master::MasterSettings& settings, PluginLoader& loader) {
  const auto plugin_dir =
      settings.plugin_dir.empty() ? DefaultPluginDir() : std::filesystem::path(settings.plugin_dir);
  (void)loader.LoadDirectory(plugin_dir);
  const auto& section = settings.SectionFor("storage", settings.storage);
  auto storage = loader.CreateStorage(settings.storage,
                                      sdk::ConfigView(section, "storage." + settings.storage));
  if (!storage.ok()) return storage.status();
  SCALEOUT_RETURN_IF_ERROR((*storage)->Start());
  return storage;
}

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

int RunInit(const std::string& config, const std::vector<std::string>& overrides,
            const std::string& admin) {
  auto loaded = core::master::LoadMasterSettings(config, overrides);
  if (!loaded.ok()) return Fail("init", loaded.status().message());
  const core::master::MasterSettings& settings = *loaded;
  core::SpdlogBridge log(spdlog::default_logger());
  PluginLoader loader(log);
  auto storage = StartCatalogStorage(settings, loader);
  if (!storage.ok()) return Fail("init", storage.status().message());
  core::Clock& clock = core::SystemClock::Instance();
  std::optional<std::string> token;
  {
    auto connection = core::catalog::OpenCatalog(**storage, clock);
    if (!connection.ok()) return Fail("init", connection.status().message());
    auto created = core::catalog::RunInTransactionWithResult<std::optional<std::string>>(
        **connection, sdk::TransactionMode::kWrite, [&](sdk::Connection& c) {
          core::catalog::Txn txn{c, (*storage)->GetDialect(), clock.NowUnixMillis()};
          return core::management::EnsureFirstAdmin(txn, admin);
        });
    if (!created.ok()) return Fail("init", created.status().message());
    token = *created;
  }
  (*storage)->Stop();
  if (!token) {
    std::cout << "The catalog " << (*storage)->Describe()
              << " already has principals; nothing was changed.\n"
                 "Add more with 'scaleout manage user add NAME --role ROLE --token'.\n";
    return kExitOk;
  }
  std::string pin = settings.ssl_cert_thumbprint;
  if (pin.empty() && !settings.ssl_cert_file.empty()) {
    auto info = core::security::ReadCertificateThumbprints(settings.ssl_cert_file);
    if (info.ok()) pin = info->sha256_thumbprint;
  }
  const std::string url = settings.master_address.empty()
                              ? "https://" + HostName() + ":" + std::to_string(settings.port_number)
                              : settings.master_address;
  std::cout << core::management::FirstAdminNotice(
      admin, *token, url, pin.empty() ? "<master certificate SHA-256>" : pin);
  return kExitOk;
}

int RunRotateKey(const std::string& config, const std::vector<std::string>& overrides) {
  auto loaded = core::master::LoadMasterSettings(config, overrides);
  if (!loaded.ok()) return Fail("rotate-key", loaded.status().message());
  const core::master::MasterSettings& settings = *loaded;
  // The master's own lock: refused while a master runs on this DataDir.
  auto lock = core::DirectoryLock::Acquire(settings.data_dir, "scaleout master rotate-key");
  if (!lock.ok()) return Fail("rotate-key", lock.status().message() + "; stop the master first");
  core::SpdlogBridge log(spdlog::default_logger());
  PluginLoader loader(log);
  auto storage = StartCatalogStorage(settings, loader);
  if (!storage.ok()) return Fail("rotate-key", storage.status().message());
  core::Clock& clock = core::SystemClock::Instance();
  sdk::Result<core::master::KeyRotation> rotation = sdk::Status::Internal("not run");
  {
    auto connection = core::catalog::OpenCatalog(**storage, clock);
    if (!connection.ok()) return Fail("rotate-key", connection.status().message());
    auto recorded = core::catalog::RunInTransactionWithResult<std::optional<std::string>>(
        **connection, sdk::TransactionMode::kRead,
        [](sdk::Connection& c) { return core::catalog::RecordedKeyId(c); });
    if (!recorded.ok()) return Fail("rotate-key", recorded.status().message());
    rotation = core::master::RotateCatalogKeyFile(
        settings.catalog_encryption_key_file, recorded->value_or(""),
        [&](const core::catalog::CatalogKey& current, const core::catalog::CatalogKey& next) {
          return core::catalog::RunInTransactionWithResult<std::int64_t>(
              **connection, sdk::TransactionMode::kWrite, [&](sdk::Connection& c) {
                core::catalog::Txn txn{c, (*storage)->GetDialect(), clock.NowUnixMillis()};
                return core::catalog::RotateCatalogKey(txn, current, next);
              });
        });
  }
  (*storage)->Stop();
  if (!rotation.ok()) return Fail("rotate-key", rotation.status().message());
  std::cout << "Sealed " << rotation->resealed << " sensitive value(s) again with catalog key "
            << rotation->new_id << ", now in " << settings.catalog_encryption_key_file << ".\n";
  if (!rotation->retired.empty()) {
    std::cout << "The old key " << rotation->old_id << " is kept as " << rotation->retired.string()
              << ": it opens only backups of the catalog made before now; delete it with them.\n";
  }
  std::cout << "Back up the new key file with the catalog, and copy it to every other master of "
               "this catalog before starting them.\n";
  return kExitOk;
}

}  // namespace

namespace {

// --config FILE and --set Key=Value, which every `scaleout master` command
// beside the master itself takes; the caller adds its own.
po::options_description MasterCommandOptions() {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("config,c", po::value<std::string>(),
                                                    "master settings file (JSON)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a setting");
  return options;
}

// Parses `argv` into `vm`. Returns the exit code when the command is done
// already: its help printed, or a usage error (a bad option, no --config).
std::optional<int> ParseMasterCommand(int argc, char** argv, std::string_view command,
                                      const char* usage, const po::options_description& options,
                                      po::variables_map& vm) {
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout master " << command << ": " << e.what() << "\n"
              << usage << "\n"
              << options;
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << usage << "\n" << options;
    return kExitOk;
  }
  if (vm.count("config") == 0) {
    std::cerr << "scaleout master " << command << ": --config FILE is required\n" << usage;
    return kExitUsage;
  }
  return std::nullopt;
}

std::vector<std::string> Overrides(const po::variables_map& vm) {
  return vm.count("set") != 0 ? vm["set"].as<std::vector<std::string>>()
                              : std::vector<std::string>{};
}

}  // namespace

int RunMasterInitCommand(int argc, char** argv) {
  po::options_description options = MasterCommandOptions();
  options.add_options()("admin", po::value<std::string>()->default_value("admin"),
                        "the first admin's name");
  po::variables_map vm;
  if (auto done = ParseMasterCommand(argc, argv, "init", kInitUsage, options, vm)) return *done;
  return RunInit(vm["config"].as<std::string>(), Overrides(vm), vm["admin"].as<std::string>());
}

int RunMasterRotateKeyCommand(int argc, char** argv) {
  const po::options_description options = MasterCommandOptions();
  po::variables_map vm;
  if (auto done = ParseMasterCommand(argc, argv, "rotate-key", kRotateUsage, options, vm)) {
    return *done;
  }
  return RunRotateKey(vm["config"].as<std::string>(), Overrides(vm));
}

}  // namespace scaleout::host

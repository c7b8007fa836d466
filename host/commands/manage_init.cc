#include "host/commands/manage_init.h"

#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/program_options.hpp>

#include "core/catalog/schema.h"
#include "core/catalog/transaction.h"
#include "core/common/clock.h"
#include "core/common/logging.h"
#include "core/management/service.h"
#include "core/master/settings.h"
#include "core/security/certificates.h"
#include "host/commands/command_util.h"
#include "host/plugin_loader.h"

namespace scaleout::host {
namespace {

namespace po = boost::program_options;

constexpr const char* kUsage =
    "Usage: scaleout master init --config FILE [--set Key=Value]... [--admin NAME]\n"
    "\n"
    "Creates the catalog (SSISDB) if it does not exist and the first admin\n"
    "principal (role ssis_admin) with a fresh API token, printed once with how\n"
    "to use it. The master does the same on its first start; init lets you do\n"
    "it before, from a script. A catalog that has principals is left as is.\n";

int Fail(const std::string& message) {
  std::cerr << "scaleout master init: " << message << "\n";
  return kExitFailed;
}

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

int RunInit(const std::string& config, const std::vector<std::string>& overrides,
            const std::string& admin) {
  auto loaded = core::master::LoadMasterSettings(config, overrides);
  if (!loaded.ok()) return Fail(loaded.status().message());
  const core::master::MasterSettings& settings = *loaded;
  core::SpdlogBridge log(spdlog::default_logger());
  PluginLoader loader(log);
  const auto plugin_dir =
      settings.plugin_dir.empty() ? DefaultPluginDir() : std::filesystem::path(settings.plugin_dir);
  (void)loader.LoadDirectory(plugin_dir);
  const auto& section = settings.SectionFor("storage", settings.storage);
  auto storage = loader.CreateStorage(settings.storage,
                                      sdk::ConfigView(section, "storage." + settings.storage));
  if (!storage.ok()) return Fail(storage.status().message());
  if (sdk::Status s = (*storage)->Start(); !s.ok()) return Fail(s.message());
  core::Clock& clock = core::SystemClock::Instance();
  std::optional<std::string> token;
  {
    auto connection = core::catalog::OpenCatalog(**storage, clock);
    if (!connection.ok()) return Fail(connection.status().message());
    auto created = core::catalog::RunInTransactionWithResult<std::optional<std::string>>(
        **connection, sdk::TransactionMode::kWrite, [&](sdk::Connection& c) {
          core::catalog::Txn txn{c, (*storage)->GetDialect(), clock.NowUnixMillis()};
          return core::management::EnsureFirstAdmin(txn, admin);
        });
    if (!created.ok()) return Fail(created.status().message());
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

}  // namespace

int RunMasterInitCommand(int argc, char** argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("config,c", po::value<std::string>(),
                                                    "master settings file (JSON)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override a setting")(
      "admin", po::value<std::string>()->default_value("admin"), "the first admin's name");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout master init: " << e.what() << "\n" << kUsage << "\n" << options;
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << kUsage << "\n" << options;
    return kExitOk;
  }
  if (vm.count("config") == 0) {
    std::cerr << "scaleout master init: --config FILE is required\n" << kUsage;
    return kExitUsage;
  }
  const auto overrides =
      vm.count("set") != 0 ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  return RunInit(vm["config"].as<std::string>(), overrides, vm["admin"].as<std::string>());
}

}  // namespace scaleout::host

#include "host/commands/plugins_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "host/commands/command_util.h"
#include "host/plugin_loader.h"

namespace scaleout::host {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

constexpr const char* kPluginsUsage =
    "Usage: scaleout plugins list [--plugin-dir DIR] [--json]\n"
    "Lists every plugin file in the plugin folder with its kind/name, version,\n"
    "ABI, fingerprint and status. Reads descriptors only; creates nothing.\n";

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string FingerprintStatus(const PluginInfo& info) {
  if (info.fingerprint.empty()) return "-";
  return info.fingerprint_matches ? "match" : "MISMATCH";
}

std::string NameOf(const PluginInfo& info) {
  if (info.kind.empty() && info.name.empty()) return "-";
  return OrDash(info.kind) + "/" + OrDash(info.name);
}

void PrintTable(const fs::path& dir, const std::vector<PluginInfo>& plugins) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"KIND/NAME", "VERSION", "ABI", "FINGERPRINT", "FILE", "STATUS"});
  for (const PluginInfo& p : plugins) {
    rows.push_back({NameOf(p), OrDash(p.version), OrDash(p.abi), FingerprintStatus(p),
                    p.file.filename().string(), p.loadable ? "ok" : "refused: " + p.reason});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::cout << "Plugins in " << dir.string() << ":\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::cout << row[i];
      if (i + 1 < row.size()) std::cout << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << "\n";
  }
  if (plugins.empty()) std::cout << "(no libscaleout_*.so files)\n";
}

void PrintJson(const fs::path& dir, const std::vector<PluginInfo>& plugins) {
  nlohmann::json list = nlohmann::json::array();
  for (const PluginInfo& p : plugins) {
    list.push_back({{"file", p.file.string()},
                    {"kind", p.kind},
                    {"name", p.name},
                    {"version", p.version},
                    {"description", p.description},
                    {"abi", p.abi},
                    {"fingerprint", p.fingerprint},
                    {"fingerprint_matches", p.fingerprint_matches},
                    {"loadable", p.loadable},
                    {"reason", p.reason}});
  }
  nlohmann::json out = {{"plugin_dir", dir.string()},
                        {"host_fingerprint", HostBuildFingerprint()},
                        {"plugins", std::move(list)}};
  std::cout << out.dump(2) << "\n";
}

int RunList(const fs::path& dir, bool json) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::cerr << "scaleout plugins list: plugin folder '" << dir.string()
              << "' does not exist; pass --plugin-dir or set SCALEOUT_PLUGIN_DIR\n";
    return kExitFailed;
  }
  sdk::NullLogger quiet;  // refusals are shown in the table instead
  PluginLoader loader(quiet);
  const std::vector<PluginInfo> plugins = loader.Discover(dir);
  if (json) {
    PrintJson(dir, plugins);
  } else {
    PrintTable(dir, plugins);
  }
  return kExitOk;
}

}  // namespace

int RunPluginsCommand(int argc, char** argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("version", "show the version")(
      "plugin-dir", po::value<std::string>(),
      "plugin folder (default: $SCALEOUT_PLUGIN_DIR, else <exe dir>/../lib/scaleout/plugins)")(
      "json", "print JSON instead of a table");
  po::options_description hidden;
  hidden.add_options()("action", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description positional;
  positional.add("action", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout plugins: " << e.what() << "\n" << kPluginsUsage;
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << kPluginsUsage << "\n" << options;
    return kExitOk;
  }
  if (vm.count("version") != 0) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  const auto actions = vm.count("action") != 0 ? vm["action"].as<std::vector<std::string>>()
                                               : std::vector<std::string>{};
  if (actions.empty() || actions.front() != "list") {
    std::cerr << "scaleout plugins: "
              << (actions.empty() ? std::string("missing action")
                                  : "unknown action '" + actions.front() + "'")
              << "; the only action is 'list'\n"
              << kPluginsUsage;
    return kExitUsage;
  }
  if (actions.size() > 1) {
    std::cerr << "scaleout plugins list: unexpected argument '" << actions[1] << "'\n"
              << kPluginsUsage;
    return kExitUsage;
  }
  const fs::path dir = vm.count("plugin-dir") != 0 ? fs::path(vm["plugin-dir"].as<std::string>())
                                                   : DefaultPluginDir();
  return RunList(dir, vm.count("json") != 0);
}

}  // namespace scaleout::host

#include "host/commands/command_util.h"

#include <sys/resource.h>

#include <cstdint>
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>

#include "host/plugin_loader.h"
#include "scaleout/sdk/plugin.h"
#include "scaleout/sdk/version.h"

namespace scaleout::host {

namespace po = boost::program_options;

std::string VersionText() {
  return std::string("scaleout ") + SCALEOUT_SDK_VERSION_STRING + " (plugin ABI " +
         std::to_string(sdk::kAbiMajor) + "." + std::to_string(sdk::kAbiMinor) + ", fingerprint " +
         HostBuildFingerprint() + ")";
}

std::uint64_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(limit.rlim_cur);
}

int RunNotBuiltYet(std::string_view name, std::string_view summary, int argc, char** argv) {
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("version", "show the version");
  po::variables_map vm;
  try {
    // Unknown options are accepted: whatever this command will take, the
    // answer for now is the same.
    po::store(po::command_line_parser(argc, argv).options(options).allow_unregistered().run(), vm);
  } catch (const po::error& e) {
    std::cerr << "scaleout " << name << ": " << e.what() << "\n";
    return kExitUsage;
  }
  if (vm.count("help") != 0) {
    std::cout << "Usage: scaleout " << name << " [options]\n"
              << summary << " (not built yet)\n\n"
              << options;
    return kExitOk;
  }
  if (vm.count("version") != 0) {
    std::cout << VersionText() << "\n";
    return kExitOk;
  }
  std::cerr << "scaleout " << name << ": not built yet\n";
  return kExitFailed;
}

std::string SelfExecutable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : path.string();
}

}  // namespace scaleout::host

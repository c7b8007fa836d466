// The example systemd units (examples/systemd): each ExecStart is a command
// line the built `scaleout` accepts, and systemd's own checker finds nothing
// wrong with the unit (syntax, known settings, an executable ExecStart).
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstalledBinary = "/usr/bin/scaleout";

fs::path UnitsDir() { return fs::path(SCALEOUT_TEST_SOURCE_DIR) / "examples" / "systemd"; }

// The words of the unit's ExecStart= line (the units quote nothing).
std::vector<std::string> ExecStartWords(const std::string& unit_text) {
  std::istringstream lines(unit_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("ExecStart=", 0) != 0) continue;
    std::istringstream words(line.substr(std::string("ExecStart=").size()));
    std::vector<std::string> out;
    for (std::string word; words >> word;) out.push_back(word);
    return out;
  }
  return {};
}

// A file named `name` on PATH, or "" when there is none.
fs::path OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && fs::exists(fs::path(dir) / name)) return fs::path(dir) / name;
  }
  return {};
}

class SystemdUnitTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string unit_text_ = ReadFile(UnitsDir() / GetParam());
};

// Readiness and the watchdog need the unit to ask for them; restarting a
// service the watchdog killed needs Restart=.
TEST_P(SystemdUnitTest, AsksForReadinessAndTheWatchdogAndRestarts) {
  for (const char* line : {"\nType=notify\n", "\nWatchdogSec=60\n", "\nRestart=on-failure\n"}) {
    EXPECT_NE(unit_text_.find(line), std::string::npos) << GetParam() << " lacks" << line;
  }
}

TEST_P(SystemdUnitTest, ExecStartIsACommandLineTheHostAccepts) {
  ASSERT_FALSE(unit_text_.empty()) << UnitsDir() / GetParam();
  std::vector<std::string> words = ExecStartWords(unit_text_);
  ASSERT_GE(words.size(), 2u) << "no ExecStart in " << GetParam();
  EXPECT_EQ(words[0], kInstalledBinary);
  const std::string role = words[1];
  // Every option is parsed before --help is acted on, so a misspelt or
  // removed option fails here.
  std::vector<std::string> args(words.begin() + 1, words.end());
  args.push_back("--help");
  const ProcessResult result = RunProcess(HostBinary(), args);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("Usage: scaleout " + role), std::string::npos) << result.out;
}

TEST_P(SystemdUnitTest, SystemdAnalyzeVerifyFindsNothing) {
  const fs::path analyze = OnPath("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  // The same unit, with ExecStart pointing at the built host (verify checks
  // that the program exists).
  std::string text = unit_text_;
  const std::size_t at = text.find(std::string("ExecStart=") + kInstalledBinary);
  ASSERT_NE(at, std::string::npos);
  text.replace(at + std::string("ExecStart=").size(), std::string(kInstalledBinary).size(),
               HostBinary().string());
  TempDir dir;
  WriteFile(dir / GetParam(), text);
  const ProcessResult result = RunProcess(analyze, {"verify", (dir / GetParam()).string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out + result.err, "") << "systemd-analyze verify " << GetParam();
}

// `cmake --install` (component runtime) puts a copy of each unit under
// share/scaleout/systemd whose ExecStart is the installed host.
TEST_P(SystemdUnitTest, TheInstalledCopyStartsTheInstalledHost) {
  TempDir prefix;
  const ProcessResult installed =
      RunProcess(SCALEOUT_TEST_CMAKE_COMMAND, {"--install", SCALEOUT_TEST_BINARY_DIR, "--component",
                                               "runtime", "--prefix", prefix.path().string()});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const std::string text = ReadFile(prefix / "share" / "scaleout" / "systemd" / GetParam());
  const std::vector<std::string> words = ExecStartWords(text);
  ASSERT_GE(words.size(), 2u) << text;
  EXPECT_EQ(fs::path(words[0]), prefix / "bin" / "scaleout");
  EXPECT_TRUE(fs::exists(words[0]));
  // Everything else is the example's.
  std::vector<std::string> example = ExecStartWords(unit_text_);
  example[0] = words[0];
  EXPECT_EQ(words, example);
}

INSTANTIATE_TEST_SUITE_P(Examples, SystemdUnitTest,
                         ::testing::Values("scaleout-master.service", "scaleout-worker.service"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param == "scaleout-master.service"
                                      ? std::string("Master")
                                      : std::string("Worker");
                         });

}  // namespace
}  // namespace scaleout::test

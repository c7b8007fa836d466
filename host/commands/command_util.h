// Helpers shared by the `scaleout` sub-commands.
//
// Every sub-command is `int Run<Name>Command(int argc, char** argv)` where
// argv[0] is the sub-command's name ("master") and the options follow, so
// boost::program_options::parse_command_line(argc, argv, ...) works as is.
// It returns one of the exit codes below and writes errors to stderr.
#ifndef SCALEOUT_HOST_COMMANDS_COMMAND_UTIL_H_
#define SCALEOUT_HOST_COMMANDS_COMMAND_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace scaleout::host {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;  // bad options or unknown sub-command

// "scaleout 0.1.0 (plugin ABI 1.0, fingerprint sdk=0;libstdc++12;cxx11abi=1;ptr=8)".
std::string VersionText();

// The body of a sub-command whose issue has not landed yet: answers --help
// and --version, and otherwise says "not built yet" and fails.
int RunNotBuiltYet(std::string_view name, std::string_view summary, int argc, char** argv);

// Raises this process's soft limit on open files to its hard limit, as
// most daemons do (the usual soft default, 1024, is meant for interactive
// programs), and returns the soft limit now in force.
std::uint64_t RaiseOpenFileLimit();

// This program's own path (what task hosts are started from), or "" when
// /proc/self/exe cannot be read.
std::string SelfExecutable();

// Open files a worker needs: its warm task hosts' pipes and sockets (five
// per MaxTaskCount slot) and a reserve for logs, spool and connections.
inline std::uint64_t WorkerOpenFilesNeeded(int max_task_count) {
  return 5 * static_cast<std::uint64_t>(max_task_count) + 64;
}

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_COMMAND_UTIL_H_

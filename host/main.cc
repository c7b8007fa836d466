// The `scaleout` executable: dispatches to one sub-command.
//
// Each sub-command lives in host/commands/<name>_command.cc, so a role can
// be filled in without touching this table.
#include <cstring>
#include <iostream>
#include <string_view>

#include "host/commands/cert_command.h"
#include "host/commands/command_util.h"
#include "host/commands/manage_command.h"
#include "host/commands/master_command.h"
#include "host/commands/plugins_command.h"
#include "host/commands/task_host_command.h"
#include "host/commands/worker_command.h"

namespace {

using scaleout::host::kExitOk;
using scaleout::host::kExitUsage;

struct SubCommand {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
  bool hidden;  // started by scaleout itself, not by people
};

constexpr SubCommand kSubCommands[] = {
    {"master", "run the Scale Out Master", scaleout::host::RunMasterCommand, false},
    {"worker", "run a Scale Out Worker", scaleout::host::RunWorkerCommand, false},
    {"manage", "manage workers, executions and the catalog", scaleout::host::RunManageCommand,
     false},
    {"cert", "create certificates and print thumbprints", scaleout::host::RunCertCommand, false},
    {"plugins", "list the plugins the host can load", scaleout::host::RunPluginsCommand, false},
    {"task-host", "run one task (started by the worker)", scaleout::host::RunTaskHostCommand, true},
};

void PrintUsage(std::ostream& out) {
  out << "Usage: scaleout <command> [options]\n"
         "       scaleout --help | --version\n\n"
         "Commands:\n";
  for (const SubCommand& command : kSubCommands) {
    if (command.hidden) continue;
    out << "  " << command.name << std::string(10 - command.name.size(), ' ') << command.summary
        << "\n";
  }
  out << "\nRun 'scaleout <command> --help' for a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(std::cerr);
    return kExitUsage;
  }
  const std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    PrintUsage(std::cout);
    return kExitOk;
  }
  if (first == "--version") {
    std::cout << scaleout::host::VersionText() << "\n";
    return kExitOk;
  }
  for (const SubCommand& command : kSubCommands) {
    if (command.name == first) return command.run(argc - 1, argv + 1);
  }
  std::cerr << "scaleout: unknown command '" << first << "'\n\n";
  PrintUsage(std::cerr);
  return kExitUsage;
}

#include "host/commands/manage_command.h"

#include "host/commands/command_util.h"

namespace scaleout::host {

int RunManageCommand(int argc, char** argv) {
  return RunNotBuiltYet("manage", "Manages the cluster: workers, executions, catalog properties.",
                        argc, argv);
}

}  // namespace scaleout::host

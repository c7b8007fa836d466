#include "host/commands/task_host_command.h"

#include "host/commands/command_util.h"

namespace scaleout::host {

int RunTaskHostCommand(int argc, char** argv) {
  return RunNotBuiltYet("task-host", "Runs one task in a child process (started by the worker).",
                        argc, argv);
}

}  // namespace scaleout::host

#include "host/commands/worker_command.h"

#include "host/commands/command_util.h"

namespace scaleout::host {

int RunWorkerCommand(int argc, char** argv) {
  return RunNotBuiltYet(
      "worker", "Runs a Scale Out Worker: registers, asks for work and runs tasks.", argc, argv);
}

}  // namespace scaleout::host

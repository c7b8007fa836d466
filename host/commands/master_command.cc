#include "host/commands/master_command.h"

#include "host/commands/command_util.h"

namespace scaleout::host {

int RunMasterCommand(int argc, char** argv) {
  return RunNotBuiltYet(
      "master", "Runs the Scale Out Master: catalog, scheduler, sweepers and API.", argc, argv);
}

}  // namespace scaleout::host

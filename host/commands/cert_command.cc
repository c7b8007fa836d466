#include "host/commands/cert_command.h"

#include "host/commands/command_util.h"

namespace scaleout::host {

int RunCertCommand(int argc, char** argv) {
  return RunNotBuiltYet("cert", "Creates certificates and prints thumbprints.", argc, argv);
}

}  // namespace scaleout::host

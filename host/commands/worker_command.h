// `scaleout worker`: Runs a Scale Out Worker: registers, asks for work and runs tasks.
#ifndef SCALEOUT_HOST_COMMANDS_WORKER_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_WORKER_COMMAND_H_

namespace scaleout::host {

// argv[0] is "worker"; see command_util.h for the conventions.
int RunWorkerCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_WORKER_COMMAND_H_

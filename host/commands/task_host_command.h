// `scaleout task-host`: Runs one task in a child process (started by the worker).
#ifndef SCALEOUT_HOST_COMMANDS_TASK_HOST_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_TASK_HOST_COMMAND_H_

namespace scaleout::host {

// argv[0] is "task-host"; see command_util.h for the conventions.
int RunTaskHostCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_TASK_HOST_COMMAND_H_

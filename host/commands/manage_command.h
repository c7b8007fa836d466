// `scaleout manage`: Manages the cluster: workers, executions, catalog properties.
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_

namespace scaleout::host {

// argv[0] is "manage"; see command_util.h for the conventions.
int RunManageCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_

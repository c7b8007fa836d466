// `scaleout manage`: Scale Out Manager and the catalog procedures on the
// command line, over the master's JSON API (docs/operations.md, docs/api.md).
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_

namespace scaleout::host {

// argv[0] is "manage"; see command_util.h for the conventions (exit 0 ok,
// 1 failed, 2 usage).
int RunManageCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_COMMAND_H_

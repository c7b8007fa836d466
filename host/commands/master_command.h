// `scaleout master`: Runs the Scale Out Master: catalog, scheduler, sweepers and API.
#ifndef SCALEOUT_HOST_COMMANDS_MASTER_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_MASTER_COMMAND_H_

namespace scaleout::host {

// argv[0] is "master"; see command_util.h for the conventions.
int RunMasterCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MASTER_COMMAND_H_

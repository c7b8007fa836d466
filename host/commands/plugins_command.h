// `scaleout plugins list [--plugin-dir DIR] [--json]`: shows every plugin
// file in a folder (kind/name, version, ABI, fingerprint and whether the host
// would load it, with the reason when not) without creating any instance.
#ifndef SCALEOUT_HOST_COMMANDS_PLUGINS_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_PLUGINS_COMMAND_H_

namespace scaleout::host {

// argv[0] is "plugins"; see command_util.h for the conventions.
// Exit codes: 0 listed (even when some plugins are refused), 1 the folder
// cannot be read, 2 usage error.
int RunPluginsCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_PLUGINS_COMMAND_H_

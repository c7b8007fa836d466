// `scaleout master init`: creates the catalog (if needed) and the first admin;
// `scaleout master rotate-key`: a new catalog key for its sensitive values.
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_INIT_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_INIT_H_

namespace scaleout::host {

// argv[0] is "init"; options: --config FILE [--set Key=Value]... [--admin NAME].
// Prints the first admin's token once, with how to use it. Exit codes as in
// command_util.h; a catalog that already has principals is left unchanged
// (exit 0, saying so).
int RunMasterInitCommand(int argc, char** argv);

// argv[0] is "rotate-key"; options: --config FILE [--set Key=Value]...
// Seals the catalog's sensitive values again with a new catalog key
// (core/master/catalog_key_file.h); refused while a master holds DataDir.
int RunMasterRotateKeyCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_INIT_H_

// `scaleout cert`: Creates certificates and prints thumbprints.
#ifndef SCALEOUT_HOST_COMMANDS_CERT_COMMAND_H_
#define SCALEOUT_HOST_COMMANDS_CERT_COMMAND_H_

namespace scaleout::host {

// argv[0] is "cert"; see command_util.h for the conventions.
int RunCertCommand(int argc, char** argv);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_CERT_COMMAND_H_

// Argument parsing for `scaleout manage <command...> [options] [args]`.
//
// Each command declares the options it accepts: ones that take a value
// (repeatable ones collect every value) and boolean flags. Anything else
// starting with "--" is a usage error. "--name=value" and "--name value" both
// work; "--" ends the options. Value type; not thread-safe.
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_ARGS_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "scaleout/sdk/status.h"

namespace scaleout::host {

struct ParsedArgs {
  std::vector<std::string> positionals;
  std::map<std::string, std::vector<std::string>> values;  // option → values, in order
  std::set<std::string> flags;

  bool Has(const std::string& name) const { return flags.contains(name) || values.contains(name); }
  // The last value of `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& name) const;
};

// Errors: kInvalidArgument naming the unknown option or the missing value.
sdk::Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                  const std::set<std::string>& value_options,
                                  const std::set<std::string>& flag_options);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_ARGS_H_

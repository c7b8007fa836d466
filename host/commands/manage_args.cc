#include "host/commands/manage_args.h"

namespace scaleout::host {

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::All(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

sdk::Result<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                  const std::set<std::string>& value_options,
                                  const std::set<std::string>& flag_options) {
  ParsedArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg.rfind("--", 0) != 0) {
      if (!options_done && arg == "-y") {
        out.flags.insert("yes");
        continue;
      }
      if (!options_done && arg == "-h") {
        out.flags.insert("help");
        continue;
      }
      out.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (flag_options.contains(name)) {
      if (has_value) return sdk::Status::InvalidArgument("--" + name + " takes no value");
      out.flags.insert(name);
      continue;
    }
    if (!value_options.contains(name)) {
      return sdk::Status::InvalidArgument("unknown option --" + name);
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return sdk::Status::InvalidArgument("--" + name + " needs a value");
      }
      value = args[++i];
    }
    out.values[name].push_back(value);
  }
  return out;
}

}  // namespace scaleout::host

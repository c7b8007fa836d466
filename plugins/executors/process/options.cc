#include "plugins/executors/process/options.h"

namespace scaleout::plugins::process {

sdk::Result<Options> ParseOptions(const sdk::ConfigView& config) {
  SCALEOUT_RETURN_IF_ERROR(
      config.CheckKnownKeys({"kill_grace_ms", "max_line_bytes", "inherit_environment"}));
  Options options;
  SCALEOUT_ASSIGN_OR_RETURN(options.kill_grace_ms,
                            config.GetInt("kill_grace_ms", options.kill_grace_ms, 0, 3'600'000));
  SCALEOUT_ASSIGN_OR_RETURN(auto line_bytes, config.GetInt("max_line_bytes", 8192, 64, 1 << 20));
  options.max_line_bytes = static_cast<std::size_t>(line_bytes);
  SCALEOUT_ASSIGN_OR_RETURN(options.inherit_environment,
                            config.GetBool("inherit_environment", options.inherit_environment));
  return options;
}

}  // namespace scaleout::plugins::process

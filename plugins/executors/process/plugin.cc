// The entry point of executor/process (libscaleout_executor_process.so).
#include "scaleout/sdk/plugin.h"
#include "plugins/executors/process/process_executor.h"
#include "scaleout/sdk/executor.h"

SCALEOUT_PLUGIN(kExecutor, "process", "0.1.0",
                "Runs packages as OS processes: executables or *.cmd.json command manifests",
                scaleout::plugins::process::ProcessExecutor)

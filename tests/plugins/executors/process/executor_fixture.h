// ExecutorFixture: a task of execution 42 (attempt 2) in a fresh temp dir
// with a project folder and a work folder, run by an executor/process made
// as the plugin makes it. Real files and real processes.
#ifndef SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_EXECUTOR_FIXTURE_H_
#define SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_EXECUTOR_FIXTURE_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "core/taskhost/cancellation.h"
#include "plugins/executors/process/process_executor.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::plugins::process {

class ExecutorFixture : public ::testing::Test {
 protected:
  ExecutorFixture() {
    std::filesystem::create_directory(root_ / "project");
    std::filesystem::create_directory(root_ / "work");
    spec_.execution_id = 42;
    spec_.task_id = "7f1c2d3e-0000-4000-8000-000000000001";
    spec_.attempt = 2;
    spec_.project_dir = root_ / "project";
    spec_.work_dir = root_ / "work";
  }

  // Adds an executable /bin/sh package and makes it the task's package.
  void Script(const std::string& name, const std::string& body, mode_t mode = 0755) {
    scaleout::testing::WriteFile(spec_.project_dir + "/" + name, "#!/bin/sh\n" + body + "\n", mode);
    spec_.package_name = name;
  }
  void Manifest(const std::string& name, const std::string& json) {
    scaleout::testing::WriteFile(spec_.project_dir + "/" + name, json);
    spec_.package_name = name;
  }
  std::string Work(const std::string& file) const { return spec_.work_dir + "/" + file; }

  // Runs the task with an executor made as the plugin makes it (sandbox included).
  sdk::Result<sdk::TaskOutcome> Run(Options options = {}) {
    auto executor = ProcessExecutor::Make(std::move(options), logger_);
    if (!executor.ok()) return executor.status();
    return (*executor)->Run(spec_, sink_, cancel_);
  }

  scaleout::testing::TempDir root_;
  sdk::TaskSpec spec_;
  scaleout::testing::RecordingSink sink_;
  core::taskhost::CancellationSource cancel_;
  sdk::NullLogger logger_;
};

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_TESTS_PLUGINS_EXECUTORS_PROCESS_EXECUTOR_FIXTURE_H_

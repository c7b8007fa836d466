// The schedule runner against a real SQLite catalog, timed by a ManualClock:
// ticks fire once each, a tick missed while the master was down fires once
// (not once per missed tick), a tick that cannot run is skipped.
#include "core/management/schedule_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/catalog/environments.h"
#include "core/catalog/procedures.h"
#include "core/catalog/schedules.h"
#include "core/catalog/schema.h"
#include "core/management/cron.h"
#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout::core::management {
namespace {

using catalog::Caller;
using catalog::Txn;

class ScheduleRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loader_ = std::make_unique<host::PluginLoader>(logger_);
    auto storage = test::StartSqliteStorage(*loader_, dir_ / "catalog.db");
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    ASSERT_TRUE(catalog::OpenCatalog(*storage_, clock_).ok());
    catalog::CatalogWriterOptions options;
    options.clock = &clock_;
    auto writer = catalog::CatalogWriter::Open(*storage_, options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
    runner_ = std::make_unique<ScheduleRunner>(*writer_, storage_->GetDialect(), clock_, logger_,
                                               [this] { ++wakeups_; });
    Deploy({"job.sh", "other.sh"});
  }

  void TearDown() override {
    runner_.reset();
    if (writer_) writer_->Stop();
    writer_.reset();
    if (storage_) storage_->Stop();
  }

  template <typename F>
  auto Tx(F&& fn) {
    return writer_->Execute([&](sdk::Connection& c) {
      Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
      return fn(txn);
    });
  }

  void Deploy(const std::vector<std::string>& packages) {
    auto deployed = Tx([&](Txn& txn) -> sdk::Result<catalog::DeployResult> {
      (void)catalog::CreateFolder(txn, admin_, "F");  // exists after the first deploy
      catalog::ProjectDeployment d;
      d.folder_name = "F";
      d.project_name = "P";
      for (const auto& name : packages) d.packages.push_back({name, "#!/bin/sh\nexit 0\n", true});
      return catalog::DeployProject(txn, admin_, d);
    });
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  }

  // The schedule's id, or the refusal.
  sdk::Result<std::int64_t> TryAddSchedule(const std::string& name, const std::string& cron_text,
                                           std::optional<std::int64_t> reference_id) {
    catalog::Schedule s;
    s.name = name;
    s.cron_expression = cron_text;
    s.folder_name = "F";
    s.project_name = "P";
    s.package_name = "job.sh";
    s.reference_id = reference_id;
    s.next_due_at = CronSchedule::Parse(cron_text)->NextAfter(clock_.NowUnixMillis());
    return Tx([&](Txn& txn) { return catalog::CreateSchedule(txn, admin_, s); });
  }

  void AddSchedule(const std::string& name, const std::string& cron_text,
                   const std::string& package = "job.sh") {
    auto cron = CronSchedule::Parse(cron_text);
    ASSERT_TRUE(cron.ok());
    catalog::Schedule s;
    s.name = name;
    s.cron_expression = cron_text;
    s.folder_name = "F";
    s.project_name = "P";
    s.package_name = package;
    s.next_due_at = cron->NextAfter(clock_.NowUnixMillis());
    auto id = Tx([&](Txn& txn) { return catalog::CreateSchedule(txn, admin_, s); });
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }

  std::vector<catalog::Execution> Executions() {
    auto rows = Tx([&](Txn& txn) { return catalog::ListExecutions(txn, admin_); });
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<catalog::Execution>{};
  }

  catalog::Schedule Get(const std::string& name) {
    auto s = Tx([&](Txn& txn) { return catalog::GetSchedule(txn, admin_, name); });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : catalog::Schedule{};
  }

  SchedulePassResult Pass() {
    auto result = runner_->RunOnce();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : SchedulePassResult{};
  }

  test::TempDir dir_;
  test::CapturingLogger logger_;
  ManualClock clock_{1'700'000'000'000};  // 22:13:20Z
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Storage> storage_;
  std::unique_ptr<catalog::CatalogWriter> writer_;
  std::unique_ptr<ScheduleRunner> runner_;
  Caller admin_ = Caller::Admin("alice");
  int wakeups_ = 0;
};

TEST_F(ScheduleRunnerTest, NothingFiresBeforeItIsDue) {
  AddSchedule("minutely", "@every 1m");
  EXPECT_EQ(Pass().fired, 0);
  clock_.Advance(Millis(39'000));  // 22:13:59
  EXPECT_EQ(Pass().fired, 0);
  EXPECT_TRUE(Executions().empty());
}

TEST_F(ScheduleRunnerTest, EachTickStartsOneExecution) {
  AddSchedule("minutely", "@every 1m");
  clock_.Advance(Millis(40'000));  // 22:14:00, the first tick
  EXPECT_EQ(Pass().fired, 1);
  EXPECT_EQ(Pass().fired, 0);  // the same tick never fires twice
  clock_.Advance(Millis(60'000));
  EXPECT_EQ(Pass().fired, 1);
  const auto executions = Executions();
  ASSERT_EQ(executions.size(), 2u);
  for (const auto& e : executions) {
    EXPECT_EQ(e.status, catalog::ExecutionStatus::kPending);  // started, waiting for a runner
    EXPECT_EQ(e.package_name, "job.sh");
    EXPECT_EQ(e.caller_name, "schedule 'minutely'");
  }
  EXPECT_EQ(wakeups_, 2);  // parked workers are woken for each start
  EXPECT_EQ(Get("minutely").last_fired_at, clock_.NowUnixMillis());
}

TEST_F(ScheduleRunnerTest, MissedTicksWhileDownFireOnceNotOncePerTick) {
  AddSchedule("minutely", "@every 1m");
  // The master was down for ten minutes: ten ticks were missed.
  clock_.Advance(Millis(10 * 60'000));
  const std::int64_t now = clock_.NowUnixMillis();
  EXPECT_EQ(Pass().fired, 1);
  EXPECT_EQ(Pass().fired, 0);
  EXPECT_EQ(Executions().size(), 1u);
  const auto s = Get("minutely");
  ASSERT_TRUE(s.next_due_at.has_value());
  EXPECT_GT(*s.next_due_at, now);  // the next tick is in the future, not a missed one
  EXPECT_LE(*s.next_due_at, now + 60'000);
}

TEST_F(ScheduleRunnerTest, DisabledSchedulesDoNotFire) {
  AddSchedule("minutely", "@every 1m");
  ASSERT_TRUE(Tx([&](Txn& txn) {
                return catalog::SetScheduleEnabled(txn, admin_, "minutely", false, std::nullopt);
              }).ok());
  clock_.Advance(Millis(5 * 60'000));
  EXPECT_EQ(Pass().fired, 0);
  EXPECT_TRUE(Executions().empty());
}

TEST_F(ScheduleRunnerTest, ATickThatCannotRunIsSkippedAndTheScheduleMovesOn) {
  AddSchedule("other", "@every 1m", "other.sh");
  Deploy({"job.sh"});  // the new version no longer has other.sh
  clock_.Advance(Millis(60'000));
  const auto result = Pass();
  EXPECT_EQ(result.fired, 0);
  EXPECT_EQ(result.failed, 1);
  EXPECT_TRUE(Executions().empty());  // its execution was rolled back entirely
  EXPECT_TRUE(logger_.Contains("schedule 'other' could not start"));
  const auto s = Get("other");
  ASSERT_TRUE(s.next_due_at.has_value());
  EXPECT_GT(*s.next_due_at, clock_.NowUnixMillis());
  EXPECT_EQ(Pass().failed, 0);  // not retried until its next tick
}

TEST_F(ScheduleRunnerTest, AScheduleRunsWithItsEnvironmentReference) {
  // Version 2 of P declares Conn, bound to the variable DbServer.
  auto configured = Tx([&](Txn& txn) -> sdk::Result<std::int64_t> {
    catalog::ProjectDeployment d;
    d.folder_name = "F";
    d.project_name = "P";
    d.packages.push_back({"job.sh", "#!/bin/sh\nexit 0\n", true});
    catalog::ParameterSpec conn;
    conn.name = "Conn";
    conn.default_value = "localhost";
    d.parameters.push_back(conn);
    SCALEOUT_RETURN_IF_ERROR(catalog::DeployProject(txn, admin_, d).status());
    SCALEOUT_RETURN_IF_ERROR(catalog::CreateEnvironment(txn, admin_, "F", "Prod").status());
    SCALEOUT_RETURN_IF_ERROR(catalog::CreateEnvironmentVariable(
        txn, admin_, "F", "Prod", "DbServer", "String", false, "prod-db"));
    SCALEOUT_RETURN_IF_ERROR(catalog::SetObjectParameterValue(
        txn, admin_, catalog::kObjectProject, "F", "P", "Conn", "DbServer", std::nullopt, "R"));
    return catalog::CreateEnvironmentReference(txn, admin_, "F", "P", "Prod", std::nullopt);
  });
  ASSERT_TRUE(configured.ok()) << configured.status().ToString();
  const std::int64_t reference = *configured;

  // A reference that is not the project's is refused when the schedule is made.
  auto wrong = TryAddSchedule("wrong", "@every 1m", reference + 100);
  EXPECT_EQ(wrong.status().code(), sdk::StatusCode::kNotFound);
  ASSERT_TRUE(TryAddSchedule("prod", "@every 1m", reference).ok());
  EXPECT_EQ(Get("prod").reference_id, reference);
  clock_.Advance(Millis(40'000));
  EXPECT_EQ(Pass().fired, 1);
  const auto executions = Executions();
  ASSERT_EQ(executions.size(), 1u);
  EXPECT_EQ(executions[0].reference_id, reference);
  auto values = Tx([&](Txn& txn) {
    return catalog::ListExecutionParameterValues(txn, admin_, executions[0].execution_id);
  });
  ASSERT_TRUE(values.ok());
  std::optional<std::string> conn_value;
  for (const auto& v : *values) {
    if (v.parameter_name == "Conn") conn_value = v.value;
  }
  EXPECT_EQ(conn_value, "prod-db");

  // The reference stays while the schedule uses it.
  auto removed =
      Tx([&](Txn& txn) { return catalog::DeleteEnvironmentReference(txn, admin_, reference); });
  EXPECT_EQ(removed.code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(removed.message().find("schedule 'prod'"), std::string::npos) << removed.message();
}

TEST_F(ScheduleRunnerTest, TheThreadFiresDueSchedules) {
  AddSchedule("minutely", "@every 1m");
  runner_->Start(/*max_sleep_ms=*/1000);
  clock_.WaitForSleepers(1);
  clock_.Advance(Millis(60'000));
  // Wait (bounded, generously) for the runner thread to fire the tick.
  for (int i = 0; i < 3000 && Executions().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  runner_->Stop();
  EXPECT_EQ(Executions().size(), 1u);
}

}  // namespace
}  // namespace scaleout::core::management

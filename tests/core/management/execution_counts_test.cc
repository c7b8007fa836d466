// ExecutionCounts on a real SQLite catalog: the counts by status, read on a
// connection of its own while the catalog writer holds a write transaction
// open (so a count never waits for the writer, nor sees what it has not
// committed), reused within its window, and recovering from an error.
#include "core/management/execution_counts.h"

#include <gtest/gtest.h>

#include <future>

#include "core/catalog/catalog_writer.h"
#include "core/catalog/procedures.h"
#include "core/catalog/schema.h"
#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout::core::management {
namespace {

using catalog::Caller;
using catalog::Txn;

// A scale-out execution of F/P/job.sh.
catalog::CreateExecutionRequest JobRequest() {
  catalog::CreateExecutionRequest r;
  r.folder_name = "F";
  r.project_name = "P";
  r.package_name = "job.sh";
  r.runinscaleout = true;
  return r;
}

class ExecutionCountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loader_ = std::make_unique<host::PluginLoader>(logger_);
    auto storage = test::StartSqliteStorage(*loader_, dir_ / "catalog.db");
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
  }

  template <typename F>
  auto Tx(F&& fn) {
    return writer_->Execute([&](sdk::Connection& c) {
      Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
      return fn(txn);
    });
  }

  void OpenCatalogAndWriter() {
    ASSERT_TRUE(catalog::OpenCatalog(*storage_, clock_).ok());
    catalog::CatalogWriterOptions options;
    options.clock = &clock_;
    auto writer = catalog::CatalogWriter::Open(*storage_, options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
    auto deployed = Tx([&](Txn& txn) -> sdk::Result<catalog::DeployResult> {
      SCALEOUT_RETURN_IF_ERROR(catalog::CreateFolder(txn, admin_, "F").status());
      catalog::ProjectDeployment d;
      d.folder_name = "F";
      d.project_name = "P";
      d.packages.push_back({"job.sh", "#!/bin/sh\nexit 0\n", true});
      return catalog::DeployProject(txn, admin_, d);
    });
    ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
  }

  void TearDown() override {
    if (writer_) writer_->Stop();
    writer_.reset();
    if (storage_) storage_->Stop();
  }

  // Creates `n` executions (status created, 1) in one transaction.
  void Create(int n) {
    auto created = Tx([&](Txn& txn) -> sdk::Status {
      for (int i = 0; i < n; ++i) {
        const catalog::CreateExecutionRequest r = JobRequest();
        SCALEOUT_RETURN_IF_ERROR(catalog::CreateExecution(txn, admin_, r).status());
      }
      return sdk::Status::Ok();
    });
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  test::TempDir dir_;
  test::CapturingLogger logger_;
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Storage> storage_;
  std::unique_ptr<catalog::CatalogWriter> writer_;
  Caller admin_ = Caller::Admin("alice");
};

TEST_F(ExecutionCountsTest, CountsWhileTheWriterHoldsATransactionOpen) {
  OpenCatalogAndWriter();
  Create(3);
  ExecutionCounts counts(*storage_, clock_, std::chrono::milliseconds(0));
  auto first = counts.Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, (std::map<int, std::int64_t>{{1, 3}}));

  // The writer sits inside a transaction that has created two more.
  std::promise<void> inside;
  std::promise<void> release;
  writer_->Submit(
      [&](sdk::Connection& c) -> sdk::Status {
        Txn txn{c, storage_->GetDialect(), clock_.NowUnixMillis()};
        for (int i = 0; i < 2; ++i) {
          const catalog::CreateExecutionRequest r = JobRequest();
          SCALEOUT_RETURN_IF_ERROR(catalog::CreateExecution(txn, admin_, r).status());
        }
        inside.set_value();
        release.get_future().wait();
        return sdk::Status::Ok();
      },
      {});
  inside.get_future().wait();
  auto during = counts.Get();  // would wait for ever on the writer's thread
  release.set_value();
  ASSERT_TRUE(during.ok()) << during.status().ToString();
  EXPECT_EQ(during->at(1), 3) << "saw what the writer had not committed";

  ASSERT_TRUE(Tx([](Txn&) { return sdk::Status::Ok(); }).ok());  // that batch committed
  EXPECT_EQ(counts.Get()->at(1), 5);
  EXPECT_EQ(counts.scans(), 3);
}

TEST_F(ExecutionCountsTest, ACountIsReusedWithinItsWindowOnly) {
  OpenCatalogAndWriter();
  Create(1);
  ExecutionCounts counts(*storage_, clock_, std::chrono::milliseconds(1000));
  EXPECT_EQ(counts.Get()->at(1), 1);
  Create(1);
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(counts.Get()->at(1), 1) << "within the window: the count before";
  EXPECT_EQ(counts.scans(), 1);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(counts.Get()->at(1), 2);
  EXPECT_EQ(counts.scans(), 2);
}

TEST_F(ExecutionCountsTest, AnErrorIsReturnedAndTheNextCallCountsAgain) {
  // No catalog yet: there is no executions table.
  ExecutionCounts counts(*storage_, clock_, std::chrono::milliseconds(0));
  auto missing = counts.Get();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("executions"), std::string::npos)
      << missing.status().ToString();
  OpenCatalogAndWriter();
  Create(2);
  auto counted = counts.Get();
  ASSERT_TRUE(counted.ok()) << counted.status().ToString();
  EXPECT_EQ(counted->at(1), 2);
  counts.Close();
  EXPECT_EQ(counts.Get()->at(1), 2) << "reopens after Close()";
}

}  // namespace
}  // namespace scaleout::core::management

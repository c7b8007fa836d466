// storage/odbc against a real PostgreSQL server: row locks seen by two
// connections (SKIP LOCKED), connection and login failures, and what happens
// when the server drops a connection (reconnect without losing or repeating
// an acknowledged write).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "plugins/storage/odbc/connection.h"
#include "test_util.h"

namespace scaleout::plugins::odbc {
namespace {

using sdk::StatusCode;
using sdk::TransactionMode;
using testing::Exec;
using testing::MakeStorage;
using testing::OpenOrFail;
using testing::QueryText;
using testing::StartedStorage;

class OdbcPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SCALEOUT_POSTGRES_OR_SKIP(server);
    server_ = server;
    auto database = server_->CreateDatabase("pg");
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    database_ = *database;
    storage_ =
        StartedStorage({{"connection_string", server_->ConnectionString(database_)}}, &logger_);
    ASSERT_NE(storage_, nullptr);
    connection_ = OpenOrFail(*storage_);
    ASSERT_NE(connection_, nullptr);
    ASSERT_TRUE(
        connection_->ExecuteScript("CREATE TABLE jobs(id BIGINT PRIMARY KEY, note TEXT)").ok());
  }

  std::vector<std::int64_t> Ids(sdk::Connection& connection, const std::string& sql) {
    std::vector<std::int64_t> ids;
    auto q = connection.Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return ids;
    for (;;) {
      auto row = (*q)->Step();
      EXPECT_TRUE(row.ok()) << row.status().ToString();
      if (!row.ok() || !*row) break;
      ids.push_back((*q)->ColumnInt64(0));
    }
    return ids;
  }

  // Has the server end `connection`'s session from another session, and
  // waits until the backend is gone, as an admin or a failover would.
  void KillBackendOf(sdk::Connection& connection) {
    const std::string pid = QueryText(connection, "SELECT pg_backend_pid()");
    ASSERT_FALSE(pid.empty());
    auto killed = server_->Psql("SELECT pg_terminate_backend(" + pid + ")");
    ASSERT_TRUE(killed.ok()) << killed.status().ToString();
    ASSERT_EQ(*killed, "t");
    for (;;) {  // terminate only signals; wait until the session really ended
      auto left = server_->Psql("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid);
      ASSERT_TRUE(left.ok()) << left.status().ToString();
      if (*left == "0") break;
    }
  }

  scaleout::test::PostgresServer* server_ = nullptr;
  scaleout::test::CapturingLogger logger_;
  std::string database_;
  std::unique_ptr<OdbcStorage> storage_;
  std::unique_ptr<sdk::Connection> connection_;
};

TEST_F(OdbcPostgresTest, SkipLockedSkipsTheRowAnotherConnectionLocked) {
  ASSERT_TRUE(
      connection_->ExecuteScript("INSERT INTO jobs VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  EXPECT_EQ(Ids(*connection_, "SELECT id FROM jobs WHERE id = 1 FOR UPDATE"),
            std::vector<std::int64_t>{1});
  ASSERT_TRUE(other->Begin(TransactionMode::kWrite).ok());
  EXPECT_EQ(Ids(*other, "SELECT id FROM jobs ORDER BY id FOR UPDATE SKIP LOCKED"),
            (std::vector<std::int64_t>{2, 3}));
  ASSERT_TRUE(other->Commit().ok());
  ASSERT_TRUE(connection_->Commit().ok());
  // Once the lock is released, the row is claimable again.
  ASSERT_TRUE(other->Begin(TransactionMode::kWrite).ok());
  EXPECT_EQ(Ids(*other, "SELECT id FROM jobs ORDER BY id FOR UPDATE SKIP LOCKED"),
            (std::vector<std::int64_t>{1, 2, 3}));
  ASSERT_TRUE(other->Rollback().ok());
}

TEST_F(OdbcPostgresTest, ConnectionsOpenedAndUsedFromManyThreadsAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kRowsEach = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = storage_->Open();  // Open() is thread-safe; each connection is per thread
      if (!opened.ok()) {
        ++failures;
        return;
      }
      sdk::Connection& c = **opened;
      for (int n = 0; n < kRowsEach; ++n) {
        bool ok = c.Begin(TransactionMode::kWrite).ok();
        auto insert = c.PrepareCached("INSERT INTO jobs VALUES (?, ?)");
        ok = ok && insert.ok() && (*insert)->BindInt64(1, t * 1000 + n).ok() &&
             (*insert)->BindText(2, "thread").ok() && (*insert)->Step().ok();
        ok = ok && c.Commit().ok();
        if (!ok) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM jobs"),
            std::to_string(kThreads * kRowsEach));
}

TEST_F(OdbcPostgresTest, AFailedStatementInATransactionNeedsARollbackAndSavepointsWork) {
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (1, 'kept')").ok());
  ASSERT_TRUE(connection_->ExecuteScript("SAVEPOINT op").ok());
  EXPECT_EQ(Exec(*connection_, "INSERT INTO jobs VALUES (1, 'duplicate')").code(),
            StatusCode::kAborted);
  // PostgreSQL refuses everything until the failed part is rolled back.
  EXPECT_EQ(Exec(*connection_, "INSERT INTO jobs VALUES (2, 'refused')").code(),
            StatusCode::kAborted);
  ASSERT_TRUE(connection_->ExecuteScript("ROLLBACK TO SAVEPOINT op").ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (3, 'after')").ok());
  ASSERT_TRUE(connection_->Commit().ok());
  EXPECT_EQ(Ids(*connection_, "SELECT id FROM jobs ORDER BY id"),
            (std::vector<std::int64_t>{1, 3}));
}

TEST_F(OdbcPostgresTest, LostConnectionIsUnavailableOnceThenReconnectsAndReprepares) {
  auto* connection = static_cast<OdbcConnection*>(connection_.get());
  auto cached = connection_->PrepareCached("SELECT count(*) FROM jobs WHERE id >= ?");
  ASSERT_TRUE(cached.ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (1, 'acknowledged')").ok());
  KillBackendOf(*connection_);

  auto lost = connection_->Prepare("SELECT 1");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable) << lost.status().ToString();
  EXPECT_NE(lost.status().message().find("next call reconnects"), std::string::npos)
      << lost.status().message();
  EXPECT_EQ(connection->reconnects(), 0u);

  // The call after that runs on a fresh link, and so does the cached
  // statement, prepared again behind the same pointer.
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM jobs"), "1");
  EXPECT_EQ(connection->reconnects(), 1u);
  auto again = connection_->PrepareCached("SELECT count(*) FROM jobs WHERE id >= ?");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *cached);
  ASSERT_TRUE((*again)->BindInt64(1, 1).ok());
  auto row = (*again)->Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_EQ((*again)->ColumnInt64(0), 1);
  EXPECT_TRUE(logger_.Contains("reconnected"));
}

TEST_F(OdbcPostgresTest, LinkLostInATransactionLosesOnlyTheUnacknowledgedWrites) {
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (1, 'acknowledged')").ok());
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (2, 'in the lost transaction')").ok());
  KillBackendOf(*connection_);

  sdk::Status write = Exec(*connection_, "INSERT INTO jobs VALUES (3, 'never sent')");
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.ToString();
  EXPECT_NE(write.message().find("Rollback()"), std::string::npos) << write.message();
  // Until the caller rolls back, nothing may run on a new link in autocommit
  // mode: that would commit the tail of a transaction whose head is lost.
  EXPECT_TRUE(connection_->InTransaction());
  sdk::Status refused = Exec(*connection_, "INSERT INTO jobs VALUES (4, 'tail')");
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  sdk::Status commit = connection_->Commit();
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable);
  EXPECT_NE(commit.message().find("nothing was committed"), std::string::npos) << commit.message();
  EXPECT_TRUE(connection_->Rollback().ok());
  EXPECT_FALSE(connection_->InTransaction());

  // The retry of the whole transaction runs on a fresh link; only the
  // acknowledged row and the retried one are there.
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (2, 'retried')").ok());
  ASSERT_TRUE(connection_->Commit().ok());
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(Ids(*other, "SELECT id FROM jobs ORDER BY id"), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(QueryText(*other, "SELECT note FROM jobs WHERE id = 2"), "retried");
}

TEST_F(OdbcPostgresTest, CommitThatHitsALostLinkIsUnavailableAndNotApplied) {
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO jobs VALUES (1, 'x')").ok());
  KillBackendOf(*connection_);
  sdk::Status commit = connection_->Commit();
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable) << commit.ToString();
  EXPECT_FALSE(connection_->InTransaction());
  EXPECT_TRUE(connection_->Rollback().ok());
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM jobs"), "0");
}

TEST_F(OdbcPostgresTest, NoReconnectWhenReconnectAttemptsIsZero) {
  auto storage = StartedStorage(
      {{"connection_string", server_->ConnectionString(database_)}, {"reconnect_attempts", "0"}});
  ASSERT_NE(storage, nullptr);
  auto connection = OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  KillBackendOf(*connection);
  EXPECT_EQ(connection->Prepare("SELECT 1").status().code(), StatusCode::kUnavailable);
  auto refused = connection->Prepare("SELECT 1");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("reconnect_attempts=0"), std::string::npos)
      << refused.status().message();
}

TEST_F(OdbcPostgresTest, WrongPasswordIsUnauthenticatedAndNamesTheUser) {
  std::string text = server_->ConnectionString(database_);
  text.replace(text.find(server_->password()), server_->password().size(), "wrong-password");
  auto storage = MakeStorage({{"connection_string", text}});
  ASSERT_TRUE(storage.ok());
  sdk::Status started = (*storage)->Start();
  EXPECT_EQ(started.code(), StatusCode::kUnauthenticated) << started.ToString();
  EXPECT_NE(started.message().find("login failed for user '" + server_->user() + "'"),
            std::string::npos)
      << started.message();
  EXPECT_NE(started.message().find("check Uid/Pwd"), std::string::npos);
  EXPECT_EQ(started.message().find("wrong-password"), std::string::npos) << started.message();
  EXPECT_EQ((*storage)->Open().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(OdbcPostgresTest, ServerThatDoesNotAnswerIsUnavailable) {
  // Port 1 on loopback: nobody listens there, so the connection is refused.
  auto storage =
      MakeStorage({{"connection_string",
                    "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=x;Uid=u;Pwd=p"},
                   {"login_timeout_s", "5"}});
  ASSERT_TRUE(storage.ok());
  sdk::Status started = (*storage)->Start();
  EXPECT_EQ(started.code(), StatusCode::kUnavailable) << started.ToString();
  EXPECT_NE(started.message().find("Server/Port"), std::string::npos) << started.message();
}

TEST_F(OdbcPostgresTest, MissingDatabaseIsReportedWithTheServersWords) {
  auto storage = MakeStorage({{"connection_string", server_->ConnectionString("no_such_db")}});
  ASSERT_TRUE(storage.ok());
  sdk::Status started = (*storage)->Start();
  EXPECT_FALSE(started.ok());
  EXPECT_NE(started.message().find("no_such_db"), std::string::npos) << started.message();
}

}  // namespace
}  // namespace scaleout::plugins::odbc

// The storage/sqlite driver against real database files: settings, binds
// and columns, RETURNING, transactions, the statement cache and threads.
#include "plugins/storage/sqlite/connection.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace scaleout::plugins::sqlite {
namespace {

using sdk::StatusCode;
using sdk::TransactionMode;
using sdk::ValueType;
using testing::OpenOrFail;
using testing::QueryText;
using testing::StartedStorage;
using testing::TempDir;

class SqliteConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("catalog.db");
    storage_ = StartedStorage({{"path", path_}});
    ASSERT_NE(storage_, nullptr);
    connection_ = OpenOrFail(*storage_);
    ASSERT_NE(connection_, nullptr);
    ASSERT_TRUE(connection_
                    ->ExecuteScript("CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                    "i INTEGER, d REAL, s TEXT, b BLOB, u TEXT UNIQUE);")
                    .ok());
  }

  std::int64_t Count(sdk::Connection& connection) {
    return std::stoll(QueryText(connection, "SELECT count(*) FROM t"));
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<SqliteStorage> storage_;
  std::unique_ptr<sdk::Connection> connection_;
};

TEST_F(SqliteConnectionTest, StartCreatesTheFileAndEveryConnectionTakesTheDefaults) {
  EXPECT_TRUE(std::filesystem::exists(path_));
  EXPECT_EQ(QueryText(*connection_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryText(*connection_, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(QueryText(*connection_, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(QueryText(*connection_, "PRAGMA busy_timeout"), "5000");
  EXPECT_EQ(storage_->Describe(), "sqlite file " + path_);
}

TEST(SqliteSettingsTest, ConfiguredSynchronousJournalModeAndTimeoutAreApplied) {
  TempDir dir;
  struct Case {
    const char* synchronous;
    const char* journal_mode;
    const char* want_synchronous;
    const char* want_journal_mode;
  };
  for (const Case& c : {Case{"NORMAL", "WAL", "1", "wal"}, Case{"OFF", "DELETE", "0", "delete"},
                        Case{"FULL", "TRUNCATE", "2", "truncate"}}) {
    SCOPED_TRACE(c.synchronous);
    auto storage = StartedStorage({{"path", dir.File(std::string(c.journal_mode) + ".db")},
                                   {"synchronous", c.synchronous},
                                   {"journal_mode", c.journal_mode},
                                   {"busy_timeout_ms", "1234"}});
    ASSERT_NE(storage, nullptr);
    auto connection = OpenOrFail(*storage);
    ASSERT_NE(connection, nullptr);
    EXPECT_EQ(QueryText(*connection, "PRAGMA synchronous"), c.want_synchronous);
    EXPECT_EQ(QueryText(*connection, "PRAGMA journal_mode"), c.want_journal_mode);
    EXPECT_EQ(QueryText(*connection, "PRAGMA busy_timeout"), "1234");
  }
}

TEST(SqliteSettingsTest, OpenBeforeStartIsRefused) {
  TempDir dir;
  auto made = testing::MakeStorage({{"path", dir.File("c.db")}});
  ASSERT_TRUE(made.ok());
  auto opened = (*made)->Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir.File("c.db")));
}

TEST_F(SqliteConnectionTest, DialectDescribesSqlite) {
  const sdk::Dialect& d = storage_->GetDialect();
  EXPECT_EQ(d.name, "sqlite");
  EXPECT_EQ(d.int64_type, "INTEGER");
  EXPECT_EQ(d.double_type, "REAL");
  EXPECT_EQ(d.text_type, "TEXT");
  EXPECT_EQ(d.blob_type, "BLOB");
  EXPECT_EQ(d.identity_primary_key, "INTEGER PRIMARY KEY AUTOINCREMENT");
  EXPECT_EQ(d.supports_returning, sqlite3_libversion_number() >= 3035000);
  EXPECT_FALSE(d.supports_skip_locked);
  EXPECT_EQ(d.max_bind_parameters, 32766);
}

TEST_F(SqliteConnectionTest, EveryTypeRoundTripsIncludingNullAndEmbeddedNul) {
  const std::string blob("\0\x01\xff\0tail\0", 9);
  const std::string text = "caf\xc3\xa9 \xe2\x9c\x93";  // UTF-8
  auto insert = connection_->Prepare("INSERT INTO t(i, d, s, b, u) VALUES (?, ?, ?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  sdk::Statement& st = **insert;
  ASSERT_TRUE(st.BindInt64(1, std::numeric_limits<std::int64_t>::min()).ok());
  ASSERT_TRUE(st.BindDouble(2, -1.5e300).ok());
  ASSERT_TRUE(st.BindText(3, text).ok());
  ASSERT_TRUE(st.BindBlob(4, blob).ok());
  ASSERT_TRUE(st.BindNull(5).ok());
  auto step = st.Step();
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_FALSE(*step);
  EXPECT_EQ(st.RowsAffected(), 1);

  auto select = connection_->Prepare("SELECT i, d, s, b, u, typeof(b) FROM t");
  ASSERT_TRUE(select.ok());
  sdk::Statement& q = **select;
  auto row = q.Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q.ColumnCount(), 6);
  EXPECT_EQ(q.ColumnType(0), ValueType::kInt64);
  EXPECT_EQ(q.ColumnInt64(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(q.ColumnType(1), ValueType::kDouble);
  EXPECT_DOUBLE_EQ(q.ColumnDouble(1), -1.5e300);
  EXPECT_EQ(q.ColumnType(2), ValueType::kText);
  EXPECT_EQ(q.ColumnText(2), text);
  EXPECT_EQ(q.ColumnType(3), ValueType::kBlob);
  EXPECT_EQ(q.ColumnBlob(3), blob);  // all 9 bytes, NULs included
  EXPECT_EQ(q.ColumnType(4), ValueType::kNull);
  EXPECT_EQ(q.ColumnInt64(4), 0);  // NULL reads as 0 / "" per the SDK
  EXPECT_EQ(q.ColumnText(4), "");
  EXPECT_EQ(q.ColumnText(5), "blob");
  // Out-of-range columns read as NULL instead of undefined behaviour.
  EXPECT_EQ(q.ColumnType(6), ValueType::kNull);
  EXPECT_EQ(q.ColumnText(-1), "");
  row = q.Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
}

TEST_F(SqliteConnectionTest, EmptyTextAndEmptyBlobAreNotNull) {
  auto insert = connection_->Prepare("INSERT INTO t(s, b) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE((*insert)->BindText(1, std::string_view()).ok());
  ASSERT_TRUE((*insert)->BindBlob(2, sdk::ByteView()).ok());
  ASSERT_TRUE((*insert)->Step().ok());
  EXPECT_EQ(QueryText(*connection_,
                      "SELECT typeof(s) || ',' || typeof(b) || ',' || length(b) "
                      "FROM t"),
            "text,blob,0");
}

TEST_F(SqliteConnectionTest, SqlMetacharactersInTextAreStoredVerbatim) {
  const std::vector<std::string> hostile = {"'); DROP TABLE t; --", "\"quoted\" ? ?1 :name @x $y",
                                            "a'b''c", "; DELETE FROM t;",
                                            std::string("nul\0inside", 10)};
  auto insert = connection_->Prepare("INSERT INTO t(s) VALUES (?)");
  ASSERT_TRUE(insert.ok());
  for (const std::string& value : hostile) {
    ASSERT_TRUE((*insert)->Reset().ok());
    ASSERT_TRUE((*insert)->BindText(1, value).ok());
    auto step = (*insert)->Step();
    ASSERT_TRUE(step.ok()) << step.status().ToString();
  }
  auto select = connection_->Prepare("SELECT s FROM t ORDER BY id");
  ASSERT_TRUE(select.ok());
  for (const std::string& value : hostile) {
    auto row = (*select)->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ((*select)->ColumnText(0), value);
  }
  EXPECT_EQ(Count(*connection_), static_cast<std::int64_t>(hostile.size()));  // table intact
}

TEST_F(SqliteConnectionTest, BindOutOfRangeIsInvalidArgument) {
  auto insert = connection_->Prepare("INSERT INTO t(i) VALUES (?)");
  ASSERT_TRUE(insert.ok());
  for (int index : {0, 2}) {
    sdk::Status status = (*insert)->BindInt64(index, 1);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find("1 parameters"), std::string::npos) << status.ToString();
  }
}

TEST_F(SqliteConnectionTest, RowsAffectedCountsChangedRowsOnly) {
  ASSERT_TRUE(connection_->ExecuteScript("INSERT INTO t(i) VALUES (1), (2), (3), (4);").ok());
  auto update = connection_->Prepare("UPDATE t SET i = i + 10 WHERE i >= ?");
  ASSERT_TRUE(update.ok());
  ASSERT_TRUE((*update)->BindInt64(1, 2).ok());
  auto step = (*update)->Step();
  ASSERT_TRUE(step.ok() && !*step);
  EXPECT_EQ((*update)->RowsAffected(), 3);

  auto del = connection_->Prepare("DELETE FROM t WHERE i = 1");
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE((*del)->Step().ok());
  EXPECT_EQ((*del)->RowsAffected(), 1);

  // A SELECT does not inherit the connection-wide count of the DELETE.
  auto select = connection_->Prepare("SELECT i FROM t WHERE i < 0");
  ASSERT_TRUE(select.ok());
  step = (*select)->Step();
  ASSERT_TRUE(step.ok() && !*step);
  EXPECT_EQ((*select)->RowsAffected(), 0);
}

TEST_F(SqliteConnectionTest, InsertReturningGivesTheNewIdThenFinishes) {
  ASSERT_TRUE(storage_->GetDialect().supports_returning);
  auto insert = connection_->Prepare("INSERT INTO t(s) VALUES (?) RETURNING id, s");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  std::vector<std::int64_t> ids;
  for (const char* name : {"first", "second"}) {
    ASSERT_TRUE((*insert)->Reset().ok());
    ASSERT_TRUE((*insert)->BindText(1, name).ok());
    auto row = (*insert)->Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    ids.push_back((*insert)->ColumnInt64(0));
    EXPECT_EQ((*insert)->ColumnText(1), name);
    row = (*insert)->Step();
    ASSERT_TRUE(row.ok());
    EXPECT_FALSE(*row);
    EXPECT_EQ((*insert)->RowsAffected(), 1);
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2}));
}

TEST_F(SqliteConnectionTest, CommitIsVisibleToOtherConnectionsAndRollbackIsNot) {
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);

  EXPECT_FALSE(connection_->InTransaction());
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  EXPECT_TRUE(connection_->InTransaction());
  ASSERT_TRUE(connection_->ExecuteScript("INSERT INTO t(i) VALUES (1);").ok());
  EXPECT_EQ(Count(*other), 0);  // not yet committed
  ASSERT_TRUE(connection_->Commit().ok());
  EXPECT_FALSE(connection_->InTransaction());
  EXPECT_EQ(Count(*other), 1);

  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(connection_->ExecuteScript("INSERT INTO t(i) VALUES (2);").ok());
  EXPECT_EQ(Count(*connection_), 2);
  ASSERT_TRUE(connection_->Rollback().ok());
  EXPECT_FALSE(connection_->InTransaction());
  EXPECT_EQ(Count(*connection_), 1);
  EXPECT_EQ(Count(*other), 1);

  ASSERT_TRUE(other->Begin(TransactionMode::kRead).ok());
  EXPECT_TRUE(other->InTransaction());
  EXPECT_EQ(Count(*other), 1);
  ASSERT_TRUE(other->Commit().ok());
}

TEST_F(SqliteConnectionTest, NestedBeginAndStrayCommitAreRefused) {
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(connection_->ExecuteScript("INSERT INTO t(i) VALUES (7);").ok());
  for (TransactionMode mode : {TransactionMode::kWrite, TransactionMode::kRead}) {
    sdk::Status nested = connection_->Begin(mode);
    EXPECT_EQ(nested.code(), StatusCode::kFailedPrecondition) << nested.ToString();
    EXPECT_NE(nested.message().find("already open"), std::string::npos);
  }
  // The refusal changed nothing: the outer transaction is still there.
  EXPECT_TRUE(connection_->InTransaction());
  ASSERT_TRUE(connection_->Commit().ok());
  EXPECT_EQ(Count(*connection_), 1);

  sdk::Status stray = connection_->Commit();
  EXPECT_EQ(stray.code(), StatusCode::kFailedPrecondition) << stray.ToString();
  // Rollback without a transaction is a harmless no-op for cleanup paths.
  EXPECT_TRUE(connection_->Rollback().ok());
  EXPECT_EQ(Count(*connection_), 1);
}

TEST_F(SqliteConnectionTest, ConstraintViolationsAreAbortedAndNameTheConstraint) {
  ASSERT_TRUE(connection_
                  ->ExecuteScript("CREATE TABLE child(id INTEGER PRIMARY KEY, "
                                  "t_id INTEGER NOT NULL REFERENCES t(id));"
                                  "INSERT INTO t(u) VALUES ('x');")
                  .ok());
  auto dup = connection_->Prepare("INSERT INTO t(u) VALUES (?)");
  ASSERT_TRUE(dup.ok());
  ASSERT_TRUE((*dup)->BindText(1, "x").ok());
  auto step = (*dup)->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kAborted);
  EXPECT_NE(step.status().message().find("UNIQUE constraint failed: t.u"), std::string::npos)
      << step.status().ToString();

  // The statement is usable again after the failure, with new bindings.
  ASSERT_TRUE((*dup)->Reset().ok());
  ASSERT_TRUE((*dup)->BindText(1, "y").ok());
  step = (*dup)->Step();
  EXPECT_TRUE(step.ok()) << step.status().ToString();

  // foreign_keys=ON is really in force on every connection.
  auto orphan = connection_->Prepare("INSERT INTO child(t_id) VALUES (999)");
  ASSERT_TRUE(orphan.ok());
  step = (*orphan)->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kAborted);
  EXPECT_NE(step.status().message().find("FOREIGN KEY"), std::string::npos)
      << step.status().ToString();
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM child"), "0");
}

TEST_F(SqliteConnectionTest, BadSqlIsInvalidArgumentWithSqlitesWords) {
  auto bad = connection_->Prepare("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status().ToString();

  auto missing = connection_->Prepare("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no such table"), std::string::npos);

  auto two = connection_->Prepare("SELECT 1; DELETE FROM t");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(two.status().message().find("ExecuteScript"), std::string::npos);

  auto empty = connection_->Prepare("  -- nothing\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);

  // A trailing semicolon is one statement, not two.
  EXPECT_TRUE(connection_->Prepare("SELECT 1;").ok());

  sdk::Status script =
      connection_->ExecuteScript("CREATE TABLE u(x); INSERT INTO nope VALUES (1);");
  EXPECT_EQ(script.code(), StatusCode::kInvalidArgument) << script.ToString();
  EXPECT_NE(script.message().find("no such table: nope"), std::string::npos);
}

TEST_F(SqliteConnectionTest, PrepareCachedReusesTheStatementResetAndUnbound) {
  auto* raw = dynamic_cast<SqliteConnection*>(connection_.get());
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(connection_->ExecuteScript("INSERT INTO t(i) VALUES (1), (2), (3);").ok());
  const std::string sql = "SELECT count(*), ? FROM t WHERE i >= coalesce(?, 0)";

  auto first = connection_->PrepareCached(sql);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE((*first)->BindText(1, "bound").ok());
  ASSERT_TRUE((*first)->BindInt64(2, 3).ok());
  auto row = (*first)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*first)->ColumnInt64(0), 1);
  EXPECT_EQ((*first)->ColumnText(1), "bound");
  // Left mid-result on purpose: the cache must hand it back reset.

  auto again = connection_->PrepareCached(sql);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(raw->cached_statements(), 1u);
  row = (*again)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*again)->ColumnInt64(0), 3);                // ?2 is NULL again: all rows
  EXPECT_EQ((*again)->ColumnType(1), ValueType::kNull);  // ?1 was cleared

  auto other = connection_->PrepareCached("SELECT 2");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
  EXPECT_EQ(raw->cached_statements(), 2u);
}

TEST(SqliteStatementCacheTest, FullCacheRefusesNewSqlAndKeepsServingCachedSql) {
  TempDir dir;
  auto storage = StartedStorage({{"path", dir.File("c.db")}, {"statement_cache_size", "2"}});
  ASSERT_NE(storage, nullptr);
  auto connection = OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  // Bad SQL does not take a cache slot.
  auto bad = connection->PrepareCached("SELEC");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  auto a = connection->PrepareCached("SELECT 1");
  auto b = connection->PrepareCached("SELECT 2");
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = connection->PrepareCached("SELECT 3");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(c.status().message().find("statement_cache_size=2"), std::string::npos);
  // Earlier pointers are still valid and still served.
  auto a_again = connection->PrepareCached("SELECT 1");
  ASSERT_TRUE(a_again.ok());
  EXPECT_EQ(*a_again, *a);
  auto row = (*a)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*a)->ColumnInt64(0), 1);
}

TEST_F(SqliteConnectionTest, ConnectionsOnManyThreadsAllCommit) {
  constexpr int kThreads = 4;
  constexpr int kRowsPerThread = 50;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  threads.reserve(static_cast<std::size_t>(kThreads));
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto opened = storage_->Open();  // Open() from many threads at once
      if (!opened.ok()) {
        failures[t] = opened.status().ToString();
        return;
      }
      sdk::Connection& c = **opened;
      for (int i = 0; i < kRowsPerThread && failures[t].empty(); ++i) {
        sdk::Status s = c.Begin(TransactionMode::kWrite);
        auto st = c.PrepareCached("INSERT INTO t(i) VALUES (?)");
        if (s.ok() && !st.ok()) s = st.status();
        if (s.ok()) s = (*st)->BindInt64(1, t * 1000 + i);
        if (s.ok()) s = (*st)->Step().status();
        if (s.ok()) s = c.Commit();
        if (!s.ok()) failures[t] = s.ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_EQ(Count(*connection_), kThreads * kRowsPerThread);
}

}  // namespace
}  // namespace scaleout::plugins::sqlite

// The storage/odbc driver against real databases, the same tests on both:
// PostgreSQL (a private server through psqlODBC) and SQLite (a temp file
// through the SQLite ODBC driver). Binds and columns, RETURNING,
// transactions, the statement cache, scripts and errors.
#include "plugins/storage/odbc/connection.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "plugins/storage/odbc/dialect.h"
#include "test_util.h"

namespace scaleout::plugins::odbc {
namespace {

using sdk::StatusCode;
using sdk::TransactionMode;
using sdk::ValueType;
using testing::Exec;
using testing::OpenOrFail;
using testing::QueryText;
using testing::StartedStorage;

enum class Backend { kPostgresql, kSqlite };

class OdbcConnectionTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgresql) {
      SCALEOUT_POSTGRES_OR_SKIP(server);
      auto database = server->CreateDatabase("connection");
      ASSERT_TRUE(database.ok()) << database.status().ToString();
      connection_string_ = server->ConnectionString(*database);
    } else {
      // A short busy timeout so a refused lock is reported, not waited for.
      connection_string_ =
          "Driver=SQLite3;Database=" + (dir_ / "catalog.db").string() + ";Timeout=200";
    }
    storage_ = StartedStorage({{"connection_string", connection_string_}});
    ASSERT_NE(storage_, nullptr);
    connection_ = OpenOrFail(*storage_);
    ASSERT_NE(connection_, nullptr);
    const sdk::Dialect& d = storage_->GetDialect();
    ASSERT_TRUE(connection_
                    ->ExecuteScript("CREATE TABLE t(id " + d.identity_primary_key + ", i " +
                                    d.int64_type + ", d " + d.double_type + ", s " + d.text_type +
                                    ", b " + d.blob_type + ", u " + d.text_type + " UNIQUE)")
                    .ok());
  }

  bool postgres() const { return GetParam() == Backend::kPostgresql; }

  std::int64_t Count(sdk::Connection& connection) {
    return std::stoll(QueryText(connection, "SELECT count(*) FROM t"));
  }

  scaleout::test::TempDir dir_;
  std::string connection_string_;
  std::unique_ptr<OdbcStorage> storage_;
  std::unique_ptr<sdk::Connection> connection_;
};

TEST_P(OdbcConnectionTest, DialectIsDetectedFromTheDriver) {
  const sdk::Dialect& d = storage_->GetDialect();
  if (postgres()) {
    EXPECT_EQ(storage_->dbms_name(), "PostgreSQL");
    EXPECT_EQ(d.name, "postgresql");
    EXPECT_EQ(d.int64_type, "BIGINT");
    EXPECT_EQ(d.blob_type, "BYTEA");
    EXPECT_TRUE(d.supports_returning);
    EXPECT_TRUE(d.supports_skip_locked);
    EXPECT_EQ(d.max_bind_parameters, 32767);
  } else {
    EXPECT_EQ(storage_->dbms_name(), "SQLite");
    EXPECT_EQ(d.name, "sqlite");
    EXPECT_EQ(d.int64_type, "INTEGER");
    EXPECT_EQ(d.identity_primary_key, "INTEGER PRIMARY KEY AUTOINCREMENT");
    EXPECT_FALSE(d.supports_skip_locked);
  }
  // The password never shows in a description.
  EXPECT_EQ(storage_->Describe().find("scaleout-test-password"), std::string::npos)
      << storage_->Describe();
}

TEST_P(OdbcConnectionTest, BindsAndReadsEveryTypeIncludingNullAndBinary) {
  const std::string text = "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80";
  const std::string blob("\x00\x01\xFF\x00z\x00", 6);
  auto insert = connection_->Prepare("INSERT INTO t(i, d, s, b, u) VALUES (?, ?, ?, ?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  sdk::Statement& s = **insert;
  ASSERT_TRUE(s.BindInt64(1, std::numeric_limits<std::int64_t>::min()).ok());
  ASSERT_TRUE(s.BindDouble(2, -1.5e300).ok());
  ASSERT_TRUE(s.BindText(3, text).ok());
  ASSERT_TRUE(s.BindBlob(4, blob).ok());
  ASSERT_TRUE(s.BindNull(5).ok());
  auto done = s.Step();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_FALSE(*done);
  EXPECT_EQ(s.RowsAffected(), 1);
  ASSERT_TRUE(s.Reset().ok());
  ASSERT_TRUE(s.BindInt64(1, std::numeric_limits<std::int64_t>::max()).ok());
  ASSERT_TRUE(s.BindDouble(2, 0.1).ok());
  ASSERT_TRUE(s.BindText(3, "").ok());
  ASSERT_TRUE(s.BindBlob(4, "").ok());
  ASSERT_TRUE(s.BindText(5, "unique").ok());
  ASSERT_TRUE(s.Step().ok());

  auto select = connection_->Prepare("SELECT i, d, s, b, u FROM t ORDER BY id");
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  sdk::Statement& q = **select;
  EXPECT_EQ(q.ColumnCount(), 5);
  auto row = q.Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_EQ(q.ColumnType(0), ValueType::kInt64);
  EXPECT_EQ(q.ColumnInt64(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(q.ColumnType(1), ValueType::kDouble);
  EXPECT_DOUBLE_EQ(q.ColumnDouble(1), -1.5e300);
  EXPECT_EQ(q.ColumnType(2), ValueType::kText);
  EXPECT_EQ(q.ColumnText(2), text);
  EXPECT_EQ(q.ColumnType(3), ValueType::kBlob);
  EXPECT_EQ(std::string(q.ColumnBlob(3)), blob);
  EXPECT_EQ(q.ColumnType(4), ValueType::kNull);
  EXPECT_EQ(q.ColumnText(4), "");
  EXPECT_EQ(q.ColumnInt64(4), 0);
  row = q.Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_EQ(q.ColumnInt64(0), std::numeric_limits<std::int64_t>::max());
  EXPECT_DOUBLE_EQ(q.ColumnDouble(1), 0.1);
  EXPECT_EQ(q.ColumnType(2), ValueType::kText);  // empty, not NULL
  EXPECT_EQ(q.ColumnText(2), "");
  EXPECT_EQ(q.ColumnType(3), ValueType::kBlob);
  EXPECT_TRUE(q.ColumnBlob(3).empty());
  EXPECT_EQ(q.ColumnText(4), "unique");
  row = q.Step();
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_FALSE(*row);
  EXPECT_EQ(q.RowsAffected(), 0);  // a SELECT changes nothing
  // Columns outside a row read as NULL.
  EXPECT_EQ(q.ColumnType(0), ValueType::kNull);
}

TEST_P(OdbcConnectionTest, LongValuesComeBackWhole) {
  std::string text(1 << 20, 'x');
  std::string blob(1 << 20, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) {
    text[i] = static_cast<char>('a' + i % 26);
    blob[i] = static_cast<char>(i * 7);
  }
  auto insert = connection_->Prepare("INSERT INTO t(s, b) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  ASSERT_TRUE((*insert)->BindText(1, text).ok());
  ASSERT_TRUE((*insert)->BindBlob(2, blob).ok());
  auto done = (*insert)->Step();
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto select = connection_->Prepare("SELECT s, b FROM t");
  ASSERT_TRUE(select.ok());
  auto row = (*select)->Step();
  ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
  EXPECT_TRUE((*select)->ColumnText(0) == text);
  EXPECT_TRUE(std::string((*select)->ColumnBlob(1)) == blob);
}

TEST_P(OdbcConnectionTest, SqlMetacharactersAreStoredVerbatim) {
  for (const std::string& value :
       {std::string("'; DROP TABLE t; --"), std::string("a ? b $1 $$x$$ \\ \" %_"),
        std::string("line\nbreak\r\ttab"), std::string("{braces}}; Pwd=x")}) {
    SCOPED_TRACE(value);
    auto insert = connection_->Prepare("INSERT INTO t(s) VALUES (?)");
    ASSERT_TRUE(insert.ok());
    ASSERT_TRUE((*insert)->BindText(1, value).ok());
    ASSERT_TRUE((*insert)->Step().ok());
    auto select = connection_->Prepare("SELECT count(*) FROM t WHERE s = ?");
    ASSERT_TRUE(select.ok());
    ASSERT_TRUE((*select)->BindText(1, value).ok());
    auto row = (*select)->Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    EXPECT_EQ((*select)->ColumnInt64(0), 1);
  }
  EXPECT_EQ(Count(*connection_), 4);
}

TEST_P(OdbcConnectionTest, ReturningGivesTheNewRowWhereTheDialectSaysSo) {
  if (!storage_->GetDialect().supports_returning) {
    // The SQLite ODBC driver runs the INSERT but reports no columns, so the
    // dialect must say so and core must use another query.
    auto insert = connection_->Prepare("INSERT INTO t(i) VALUES (7) RETURNING id");
    ASSERT_TRUE(insert.ok()) << insert.status().ToString();
    auto row = (*insert)->Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_FALSE(*row);
    EXPECT_EQ(Count(*connection_), 1);
    return;
  }
  auto insert = connection_->Prepare("INSERT INTO t(i) VALUES (?) RETURNING id, i");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  std::int64_t last = 0;
  for (int n = 1; n <= 3; ++n) {
    ASSERT_TRUE((*insert)->Reset().ok());
    ASSERT_TRUE((*insert)->BindInt64(1, std::int64_t{n} * 10).ok());
    auto row = (*insert)->Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    EXPECT_GT((*insert)->ColumnInt64(0), last);
    last = (*insert)->ColumnInt64(0);
    EXPECT_EQ((*insert)->ColumnInt64(1), n * 10);
    row = (*insert)->Step();
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_FALSE(*row);
    EXPECT_EQ((*insert)->RowsAffected(), 1);
  }
}

TEST_P(OdbcConnectionTest, RowsAffectedCountsUpdatesAndDeletes) {
  ASSERT_TRUE(connection_
                  ->ExecuteScript("INSERT INTO t(i) VALUES (1); INSERT INTO t(i) VALUES (1);"
                                  "INSERT INTO t(i) VALUES (2)")
                  .ok());
  auto update = connection_->Prepare("UPDATE t SET i = 5 WHERE i = ?");
  ASSERT_TRUE(update.ok());
  ASSERT_TRUE((*update)->BindInt64(1, 1).ok());
  ASSERT_TRUE((*update)->Step().ok());
  EXPECT_EQ((*update)->RowsAffected(), 2);
  ASSERT_TRUE((*update)->Reset().ok());
  ASSERT_TRUE((*update)->BindInt64(1, 99).ok());
  ASSERT_TRUE((*update)->Step().ok());
  EXPECT_EQ((*update)->RowsAffected(), 0);
  auto remove = connection_->Prepare("DELETE FROM t");
  ASSERT_TRUE(remove.ok());
  ASSERT_TRUE((*remove)->Step().ok());
  EXPECT_EQ((*remove)->RowsAffected(), 3);
}

TEST_P(OdbcConnectionTest, ResetClearsBindingsToNull) {
  auto insert = connection_->Prepare("INSERT INTO t(i, s) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE((*insert)->BindInt64(1, 1).ok());
  ASSERT_TRUE((*insert)->BindText(2, "x").ok());
  ASSERT_TRUE((*insert)->Step().ok());
  ASSERT_TRUE((*insert)->Reset().ok());
  ASSERT_TRUE((*insert)->Step().ok());
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM t WHERE i IS NULL AND s IS NULL"), "1");
}

TEST_P(OdbcConnectionTest, BindingErrorsSayWhatToDo) {
  auto insert = connection_->Prepare("INSERT INTO t(i) VALUES (?)");
  ASSERT_TRUE(insert.ok());
  sdk::Status bad = (*insert)->BindInt64(2, 1);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("has 1 parameters"), std::string::npos) << bad.message();
  EXPECT_EQ((*insert)->BindInt64(0, 1).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*insert)->BindInt64(1, 1).ok());
  ASSERT_TRUE((*insert)->Step().ok());
  sdk::Status late = (*insert)->BindInt64(1, 2);
  EXPECT_EQ(late.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.message().find("Reset()"), std::string::npos) << late.message();
  EXPECT_EQ(Count(*connection_), 1);
}

TEST_P(OdbcConnectionTest, BadSqlFailsWithTheDatabasesWords) {
  for (const char* sql : {"SELEC 1", "SELECT * FROM no_such_table"}) {
    SCOPED_TRACE(sql);
    // psqlODBC checks the SQL at Prepare (we ask it to describe the result);
    // the SQLite driver only compiles it when it first runs.
    auto prepared = connection_->Prepare(sql);
    sdk::Status status = prepared.status();
    if (prepared.ok()) {
      EXPECT_FALSE(postgres());
      status = (*prepared)->Step().status();
    }
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find(postgres() ? "SELEC" : "SQLite"), std::string::npos)
        << status.message();
  }
  auto two = connection_->Prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("ExecuteScript"), std::string::npos);
  EXPECT_EQ(connection_->Prepare("  -- nothing\n").status().code(), StatusCode::kInvalidArgument);
  // The connection still works afterwards.
  EXPECT_EQ(QueryText(*connection_, "SELECT 40 + 2"), "42");
}

TEST_P(OdbcConnectionTest, ConstraintViolationIsAbortedAndChangesNothing) {
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO t(u) VALUES ('same')").ok());
  sdk::Status again = Exec(*connection_, "INSERT INTO t(u) VALUES ('same')");
  EXPECT_EQ(again.code(), StatusCode::kAborted) << again.ToString();
  EXPECT_EQ(Count(*connection_), 1);
}

TEST_P(OdbcConnectionTest, CommitKeepsRollbackUndoesAndNestingIsRefused) {
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(connection_->InTransaction());
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  EXPECT_TRUE(connection_->InTransaction());
  sdk::Status nested = connection_->Begin(TransactionMode::kWrite);
  EXPECT_EQ(nested.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(nested.message().find("nested"), std::string::npos);
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO t(i) VALUES (1)").ok());
  ASSERT_TRUE(connection_->Rollback().ok());
  EXPECT_FALSE(connection_->InTransaction());
  EXPECT_EQ(Count(*connection_), 0);

  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO t(i) VALUES (2)").ok());
  ASSERT_TRUE(connection_->Commit().ok());
  EXPECT_EQ(Count(*other), 1);  // durable and visible to another connection

  EXPECT_EQ(connection_->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(connection_->Rollback().ok());  // nothing open: fine

  ASSERT_TRUE(connection_->Begin(TransactionMode::kRead).ok());
  EXPECT_EQ(Count(*connection_), 1);
  ASSERT_TRUE(connection_->Commit().ok());
}

TEST_P(OdbcConnectionTest, StatementsOutsideATransactionCommitAtOnce) {
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO t(i) VALUES (1)").ok());
  EXPECT_EQ(Count(*other), 1);
  // And after a transaction ended, the connection is back in autocommit mode.
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  ASSERT_TRUE(connection_->Commit().ok());
  ASSERT_TRUE(Exec(*connection_, "INSERT INTO t(i) VALUES (2)").ok());
  EXPECT_EQ(Count(*other), 2);
}

TEST_P(OdbcConnectionTest, WriteTransactionsExcludeEachOtherOnSqlite) {
  auto other = OpenOrFail(*storage_);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(connection_->Begin(TransactionMode::kWrite).ok());
  sdk::Status second = other->Begin(TransactionMode::kWrite);
  if (postgres()) {
    // PostgreSQL writers meet at rows, not at BEGIN.
    EXPECT_TRUE(second.ok()) << second.ToString();
    EXPECT_TRUE(other->Rollback().ok());
  } else {
    // BEGIN IMMEDIATE: the second writer is told at Begin, not at its first write.
    EXPECT_EQ(second.code(), StatusCode::kUnavailable) << second.ToString();
    EXPECT_FALSE(other->InTransaction());
  }
  ASSERT_TRUE(connection_->Commit().ok());
}

TEST_P(OdbcConnectionTest, CachedStatementsAreReusedResetAndBounded) {
  auto* connection = static_cast<OdbcConnection*>(connection_.get());
  const std::string sql = "INSERT INTO t(i) VALUES (?)";
  auto first = connection_->PrepareCached(sql);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->BindInt64(1, 1).ok());
  ASSERT_TRUE((*first)->Step().ok());
  auto second = connection_->PrepareCached(sql);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(connection->cached_statements(), 1u);
  ASSERT_TRUE((*second)->Step().ok());  // comes back reset: i is NULL
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM t WHERE i IS NULL"), "1");

  auto small =
      StartedStorage({{"connection_string", connection_string_}, {"statement_cache_size", "2"}});
  ASSERT_NE(small, nullptr);
  auto bounded = OpenOrFail(*small);
  ASSERT_NE(bounded, nullptr);
  ASSERT_TRUE(bounded->PrepareCached("SELECT 1").ok());
  ASSERT_TRUE(bounded->PrepareCached("SELECT 2").ok());
  auto full = bounded->PrepareCached("SELECT 3");
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("statement_cache_size=2"), std::string::npos);
  EXPECT_TRUE(bounded->PrepareCached("SELECT 1").ok());  // still there
}

TEST_P(OdbcConnectionTest, ScriptsRunEveryStatementAndStopAtTheFirstError) {
  ASSERT_TRUE(connection_
                  ->ExecuteScript("INSERT INTO t(s) VALUES ('a;b'); -- a comment; with ;\n"
                                  "/* block ; */ INSERT INTO t(s) VALUES ('it''s;');")
                  .ok());
  EXPECT_EQ(Count(*connection_), 2);
  EXPECT_EQ(QueryText(*connection_, "SELECT count(*) FROM t WHERE s = 'it''s;'"), "1");
  sdk::Status bad = connection_->ExecuteScript(
      "INSERT INTO t(s) VALUES ('c'); INSERT INTO nowhere VALUES (1); INSERT INTO t(s) VALUES "
      "('d')");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("statement 2"), std::string::npos) << bad.message();
  EXPECT_EQ(Count(*connection_), 3);  // 'c' ran (autocommit), 'd' did not
}

TEST_P(OdbcConnectionTest, IntegersComeBackExactFromAggregates) {
  ASSERT_TRUE(connection_
                  ->ExecuteScript("INSERT INTO t(i) VALUES (4611686018427387904);"
                                  "INSERT INTO t(i) VALUES (3)")
                  .ok());
  // PostgreSQL's sum(bigint) is NUMERIC; it must still read as an exact integer.
  auto q = connection_->Prepare("SELECT sum(i), count(*), max(i) FROM t");
  ASSERT_TRUE(q.ok());
  auto row = (*q)->Step();
  ASSERT_TRUE(row.ok() && *row);
  // (The SQLite driver describes aggregates as text; their value is exact.)
  if (postgres()) {
    EXPECT_EQ((*q)->ColumnType(0), ValueType::kInt64);
  }
  EXPECT_EQ((*q)->ColumnInt64(0), 4611686018427387907);
  EXPECT_EQ((*q)->ColumnInt64(1), 2);
  EXPECT_EQ((*q)->ColumnText(2), "4611686018427387904");
}

INSTANTIATE_TEST_SUITE_P(Odbc, OdbcConnectionTest,
                         ::testing::Values(Backend::kPostgresql, Backend::kSqlite),
                         [](const ::testing::TestParamInfo<Backend>& param_info) {
                           return param_info.param == Backend::kPostgresql
                                      ? std::string("postgresql")
                                      : std::string("sqlite");
                         });

}  // namespace
}  // namespace scaleout::plugins::odbc

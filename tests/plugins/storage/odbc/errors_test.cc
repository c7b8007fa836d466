// SQLSTATE mapping and dialect detection, without a database: each class of
// failure becomes the status code the catalog acts on, with a message that
// says what to do.
#include "plugins/storage/odbc/errors.h"

#include <gtest/gtest.h>

#include "plugins/storage/odbc/dialect.h"
#include "plugins/storage/odbc/storage.h"
#include "test_util.h"

namespace scaleout::plugins::odbc {
namespace {

using sdk::StatusCode;

ErrorContext Context() {
  ErrorContext context;
  context.target = "PostgreSQL through ODBC driver 'PostgreSQL Unicode'";
  context.user = "scaleout";
  context.driver = "PostgreSQL Unicode";
  return context;
}

sdk::Status Map(const std::string& sqlstate, const std::string& message = "driver says no",
                long native = 0) {
  return MapDiagnostics({{sqlstate, native, message}}, Context(), "running SQL");
}

TEST(OdbcErrorsTest, SqlstateClassesMapToStatusCodes) {
  struct Case {
    const char* sqlstate;
    StatusCode code;
    const char* want;
  };
  for (const Case& c : {
           Case{"08S01", StatusCode::kUnavailable, "lost the connection"},
           Case{"08003", StatusCode::kUnavailable, "lost the connection"},
           Case{"08001", StatusCode::kUnavailable, "check that the server is running"},
           Case{"57P01", StatusCode::kUnavailable, "lost the connection"},
           Case{"28P01", StatusCode::kUnauthenticated, "login failed for user 'scaleout'"},
           Case{"28000", StatusCode::kUnauthenticated, "check Uid/Pwd in connection_string"},
           Case{"IM002", StatusCode::kNotFound,
                "ODBC driver 'PostgreSQL Unicode' is not installed"},
           Case{"IM003", StatusCode::kNotFound, "could not be loaded"},
           Case{"23505", StatusCode::kAborted, "constraint failed"},
           Case{"23503", StatusCode::kAborted, "constraint failed"},
           Case{"40001", StatusCode::kAborted, "retry the whole transaction"},
           Case{"40P01", StatusCode::kAborted, "retry the whole transaction"},
           Case{"25P02", StatusCode::kAborted, "roll back"},
           Case{"42601", StatusCode::kInvalidArgument, "driver says no"},
           Case{"42P01", StatusCode::kInvalidArgument, "[SQLSTATE 42P01]"},
           Case{"22003", StatusCode::kInvalidArgument, "running SQL failed"},
           Case{"07002", StatusCode::kInvalidArgument, "running SQL failed"},
           Case{"53300", StatusCode::kResourceExhausted, "server resource"},
           Case{"HYT00", StatusCode::kDeadlineExceeded, "timed out"},
           Case{"HY010", StatusCode::kFailedPrecondition, "wrong state"},
           Case{"HYC00", StatusCode::kUnimplemented, "not supported"},
           Case{"XX000", StatusCode::kInternal, "driver says no"},
       }) {
    sdk::Status status = Map(c.sqlstate);
    EXPECT_EQ(status.code(), c.code) << c.sqlstate << ": " << status.ToString();
    EXPECT_NE(status.message().find(c.want), std::string::npos)
        << c.sqlstate << ": " << status.message();
  }
}

TEST(OdbcErrorsTest, PasswordFailuresReportedAsConnectErrorsAreUnauthenticated) {
  sdk::Status status = Map("08001", "FATAL:  password authentication failed for user \"scaleout\"");
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated);
}

TEST(OdbcErrorsTest, WarningsBeforeTheErrorAreSkipped) {
  sdk::Status status = MapDiagnostics({{"01000", 0, "a warning"}, {"23505", 0, "duplicate key"}},
                                      Context(), "inserting");
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_NE(status.message().find("duplicate key"), std::string::npos);
}

TEST(OdbcErrorsTest, SqliteResultCodesAreMappedLikeStorageSqlite) {
  EXPECT_EQ(Map("HY000", "[SQLite]database is locked (5)", 5).code(), StatusCode::kUnavailable);
  EXPECT_EQ(Map("HY000", "[SQLite]UNIQUE constraint failed (19)", 19).code(), StatusCode::kAborted);
  EXPECT_EQ(Map("HY000", "[SQLite]near \"x\": syntax error (1)", 1).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Map("HY000", "[SQLite]attempt to write a readonly database (8)", 8).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Map("HY000", "[SQLite]database disk image is malformed (11)", 11).code(),
            StatusCode::kDataLoss);
}

TEST(OdbcErrorsTest, NoDiagnosticRecordIsInternal) {
  sdk::Status status = MapDiagnostics({}, Context(), "committing");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("no diagnostic record"), std::string::npos);
}

TEST(OdbcErrorsTest, OnlyConnectionClassesCountAsALostLink) {
  EXPECT_TRUE(IsLinkLost("08S01"));
  EXPECT_TRUE(IsLinkLost("08003"));
  EXPECT_TRUE(IsLinkLost("57P01"));
  EXPECT_FALSE(IsLinkLost("23505"));
  EXPECT_FALSE(IsLinkLost("40001"));
  EXPECT_FALSE(IsLinkLost("HY000"));
}

TEST(OdbcDialectTest, DetectionPicksByDbmsNameAndRefusesOthers) {
  auto pg = ChooseDialect(DialectChoice::kAuto, "PostgreSQL");
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->name, "postgresql");
  EXPECT_EQ(pg->double_type, "DOUBLE PRECISION");
  EXPECT_TRUE(pg->supports_skip_locked);
  auto sqlite = ChooseDialect(DialectChoice::kAuto, "SQLite");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->name, "sqlite");
  EXPECT_EQ(sqlite->blob_type, "BLOB");
  EXPECT_FALSE(sqlite->supports_returning);

  auto other = ChooseDialect(DialectChoice::kAuto, "Microsoft SQL Server");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(other.status().message().find("'Microsoft SQL Server'"), std::string::npos);
  EXPECT_NE(other.status().message().find("supported: PostgreSQL and SQLite"), std::string::npos);
  // A configured dialect is used whatever the name.
  auto forced = ChooseDialect(DialectChoice::kPostgresql, "CockroachDB");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->name, "postgresql");
}

TEST(OdbcStorageErrorsTest, MissingDriverIsNotFoundAndSaysWhatToInstall) {
  auto storage = testing::MakeStorage(
      {{"connection_string", "Driver={No Such ODBC Driver};Server=127.0.0.1;Uid=u;Pwd=p"}});
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  sdk::Status started = (*storage)->Start();
  EXPECT_EQ(started.code(), StatusCode::kNotFound) << started.ToString();
  EXPECT_NE(started.message().find("'No Such ODBC Driver' is not installed"), std::string::npos)
      << started.message();
  EXPECT_NE(started.message().find("odbcinst -q -d"), std::string::npos);
  EXPECT_EQ(started.message().find("Pwd=p"), std::string::npos) << started.message();
}

TEST(OdbcStorageErrorsTest, MissingDsnIsNotFound) {
  auto storage = testing::MakeStorage({{"connection_string", "DSN=scaleout_no_such_dsn"}});
  ASSERT_TRUE(storage.ok());
  sdk::Status started = (*storage)->Start();
  EXPECT_EQ(started.code(), StatusCode::kNotFound) << started.ToString();
  EXPECT_NE(started.message().find("odbc.ini"), std::string::npos) << started.message();
}

TEST(OdbcStorageErrorsTest, BadConnectionStringIsRefusedAtCreate) {
  auto storage = testing::MakeStorage({{"connection_string", "Driver={SQLite3;Database=x"}});
  ASSERT_FALSE(storage.ok());
  EXPECT_EQ(storage.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(storage.status().message().find("'storage.odbc.connection_string'"), std::string::npos)
      << storage.status().message();
}

TEST(OdbcStorageErrorsTest, OpenBeforeStartIsRefused) {
  auto storage = testing::MakeStorage({{"connection_string", "Driver=SQLite3;Database=x.db"}});
  ASSERT_TRUE(storage.ok());
  EXPECT_EQ((*storage)->Open().status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace scaleout::plugins::odbc

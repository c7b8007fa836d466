// storage/odbc settings, connection strings and SQL text helpers: every bad
// value is refused naming the key and what to write instead.
#include "plugins/storage/odbc/options.h"

#include <gtest/gtest.h>

#include "plugins/storage/odbc/connection_string.h"
#include "plugins/storage/odbc/sql_text.h"
#include "test_util.h"

namespace scaleout::plugins::odbc {
namespace {

using sdk::StatusCode;

sdk::Result<Options> Parse(const sdk::ConfigView::Map& values) {
  sdk::ConfigView view(values, "storage.odbc");
  return ParseOptions(view);
}

constexpr const char* kPostgres =
    "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=scaleout;Uid=so;Pwd=secret";

TEST(OdbcOptionsTest, DefaultsAndPsqlodbcCompletion) {
  auto options = Parse({{"connection_string", kPostgres}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->dialect, DialectChoice::kAuto);
  EXPECT_EQ(options->login_timeout_s, 15);
  EXPECT_EQ(options->statement_cache_size, 256);
  EXPECT_EQ(options->reconnect_attempts, 3);
  const ConnectionString& c = options->connection;
  EXPECT_EQ(*c.Find("driver"), "PostgreSQL Unicode");
  EXPECT_EQ(*c.Find("ByteaAsLongVarBinary"), "1");
  EXPECT_EQ(*c.Find("protocol"), "7.4-0");
  EXPECT_EQ(*c.Find("CommLog"), "0");
  EXPECT_EQ(c.User(), "so");
}

TEST(OdbcOptionsTest, TheUsersDriverOptionsWin) {
  auto options = Parse({{"connection_string", std::string(kPostgres) + ";useserversideprepare=0"}});
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(*options->connection.Find("UseServerSidePrepare"), "0");
  // SQLite gets none of psqlODBC's options.
  auto sqlite = Parse({{"connection_string", "Driver=SQLite3;Database=/tmp/x.db"}});
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->connection.Find("CommLog"), nullptr);
}

TEST(OdbcOptionsTest, EverySettingIsParsed) {
  auto options = Parse({{"connection_string", kPostgres},
                        {"dialect", "PostgreSQL"},
                        {"login_timeout_s", "3"},
                        {"statement_cache_size", "10"},
                        {"reconnect_attempts", "0"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->dialect, DialectChoice::kPostgresql);
  EXPECT_EQ(options->login_timeout_s, 3);
  EXPECT_EQ(options->statement_cache_size, 10);
  EXPECT_EQ(options->reconnect_attempts, 0);
}

TEST(OdbcOptionsTest, BadSettingsNameTheKey) {
  struct Case {
    sdk::ConfigView::Map values;
    std::string want;
  };
  for (const Case& c : {
           Case{{}, "'storage.odbc.connection_string' is required"},
           Case{{{"connection_string", ""}}, "is required"},
           Case{{{"connection_string", kPostgres}, {"conection_string", "x"}},
                "unknown setting 'storage.odbc.conection_string'"},
           Case{{{"connection_string", kPostgres}, {"dialect", "oracle"}},
                "must be one of auto, postgresql, sqlite, got 'oracle'"},
           Case{{{"connection_string", kPostgres}, {"login_timeout_s", "-1"}},
                "'storage.odbc.login_timeout_s' must be between 0 and 3600"},
           Case{{{"connection_string", kPostgres}, {"statement_cache_size", "0"}},
                "statement_cache_size"},
           Case{{{"connection_string", kPostgres}, {"reconnect_attempts", "many"}},
                "must be an integer"},
           Case{{{"connection_string", "Server=db;Uid=x"}}, "names no Driver, DSN or FILEDSN"},
       }) {
    auto options = Parse(c.values);
    ASSERT_FALSE(options.ok()) << c.want;
    EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(options.status().message().find(c.want), std::string::npos)
        << options.status().message();
  }
}

TEST(ConnectionStringTest, ParsesBracesEscapesAndBlanks) {
  auto parsed = ConnectionString::Parse(
      " Driver = {PostgreSQL Unicode} ; Pwd={a;b}}c} ;Server=db;;Port=5432;");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->attributes().size(), 4u);
  EXPECT_EQ(*parsed->Find("DRIVER"), "PostgreSQL Unicode");
  EXPECT_EQ(*parsed->Find("pwd"), "a;b}c");
  EXPECT_EQ(*parsed->Find("Port"), "5432");
  EXPECT_EQ(parsed->Find("Database"), nullptr);
  EXPECT_TRUE(parsed->NamesPostgresqlDriver());
  // Format() round-trips; Redacted() hides the password.
  EXPECT_EQ(parsed->Format(), "Driver=PostgreSQL Unicode;Pwd={a;b}}c};Server=db;Port=5432");
  auto again = ConnectionString::Parse(parsed->Format());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->Find("Pwd"), "a;b}c");
  EXPECT_EQ(parsed->Redacted(), "Driver=PostgreSQL Unicode;Pwd=***;Server=db;Port=5432");
}

TEST(ConnectionStringTest, MalformedStringsSayWhereAndChangeNothing) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"", "empty"},
           Case{"   ", "empty"},
           Case{"Driver=SQLite3;Database", "'Database' has no '='"},
           Case{"=x;Driver=SQLite3", "empty key"},
           Case{"Driver={SQLite3", "never closes it"},
           Case{"Driver={SQLite3}x;", "unexpected text 'x'"},
           Case{"Driver=SQLite3;driver=SQLite", "sets 'driver' twice"},
       }) {
    auto parsed = ConnectionString::Parse(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(c.want), std::string::npos)
        << c.text << ": " << parsed.status().message();
  }
}

TEST(ConnectionStringTest, DsnOnlyStringsAreAccepted) {
  auto parsed = ConnectionString::Parse("DSN=catalog;UID=me;PASSWORD=x");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Driver(), "");
  EXPECT_EQ(parsed->User(), "me");
  EXPECT_EQ(parsed->Redacted(), "DSN=catalog;UID=me;PASSWORD=***");
}

TEST(SqlTextTest, SplitsAtStatementEndsOnly) {
  auto parts = SplitStatements(
      "CREATE TABLE a(x TEXT DEFAULT ';');\n-- c;omment\nINSERT INTO a VALUES ('it''s;'), "
      "(\"q;\");/* b;lock */ SELECT $$a;b$$, $t$ ; $t$, $1;  ;\n");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "CREATE TABLE a(x TEXT DEFAULT ';')");
  EXPECT_EQ(parts[1], "INSERT INTO a VALUES ('it''s;'), (\"q;\")");
  EXPECT_EQ(parts[2], "SELECT $$a;b$$, $t$ ; $t$, $1");
  EXPECT_TRUE(SplitStatements(" ; -- only a comment\n").empty());
}

TEST(SqlTextTest, FirstKeywordAndReadOnlyStatements) {
  EXPECT_EQ(FirstKeyword("  /* x */ (select 1)"), "SELECT");
  EXPECT_EQ(FirstKeyword("-- c\ninsert into t"), "INSERT");
  EXPECT_TRUE(OnlyReads("SELECT 1"));
  EXPECT_TRUE(OnlyReads("values (1)"));
  EXPECT_TRUE(OnlyReads("PRAGMA foreign_keys"));
  EXPECT_FALSE(OnlyReads("UPDATE t SET x = 1 RETURNING x"));
  EXPECT_FALSE(OnlyReads("WITH x AS (SELECT 1) DELETE FROM t"));
  EXPECT_EQ(Shorten(std::string(300, 'a')).size(), 203u);
}

}  // namespace
}  // namespace scaleout::plugins::odbc

// The PostgreSQL test harness itself: a real server starts, answers as the
// role it made with the password it set, makes fresh databases, and is gone
// after Stop().
#include "tests/support/postgres_server.h"

#include <gtest/gtest.h>

#include "plugins/storage/odbc/storage.h"
#include "test_util.h"

namespace scaleout::test {
namespace {

TEST(PostgresServerTest, StartsAnswersCreatesDatabasesAndStops) {
  if (!PostgresServer::FindBinDir()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  auto started = PostgresServer::Start();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  PostgresServer& server = **started;
  EXPECT_TRUE(server.running());
  EXPECT_GT(server.port(), 0);

  auto version = server.Psql("SHOW server_version_num");
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_GE(std::stoi(*version), 100000);
  EXPECT_EQ(*server.Psql("SHOW fsync"), "on");
  EXPECT_EQ(*server.Psql("SHOW listen_addresses"), "127.0.0.1");
  auto owner = server.Psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" +
                           server.database() + "'");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, server.user());

  auto first = server.CreateDatabase("harness");
  auto second = server.CreateDatabase("harness");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);

  // The role logs in over TCP with its password, through psqlODBC.
  auto storage = plugins::odbc::testing::StartedStorage(
      {{"connection_string", server.ConnectionString(*first)}});
  ASSERT_NE(storage, nullptr);
  auto connection = plugins::odbc::testing::OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(plugins::odbc::testing::QueryText(*connection, "SELECT current_user"), server.user());
  EXPECT_EQ(plugins::odbc::testing::QueryText(*connection, "SELECT current_database()"), *first);
  connection.reset();
  storage.reset();

  auto bad = server.Psql("SELEC 1");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status().message();

  server.Stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.Psql("SELECT 1").status().code(), sdk::StatusCode::kFailedPrecondition);
  server.Stop();  // idempotent
}

TEST(PostgresServerTest, TwoServersRunSideBySide) {
  if (!PostgresServer::FindBinDir()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  auto a = PostgresServer::Start();
  auto b = PostgresServer::Start();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE((*a)->port(), (*b)->port());
  ASSERT_TRUE((*a)->Psql("CREATE TABLE only_in_a(x int)").ok());
  EXPECT_EQ(*(*a)->Psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "1");
  EXPECT_EQ(*(*b)->Psql("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), "0");
}

}  // namespace
}  // namespace scaleout::test

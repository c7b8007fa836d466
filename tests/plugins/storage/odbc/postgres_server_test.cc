// The PostgreSQL test harness itself: a real server starts, answers as the
// role it made with the password it set, makes fresh databases, and is gone
// after Stop().
#include "tests/support/postgres_server.h"

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "plugins/storage/odbc/storage.h"
#include "test_util.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;

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

// What the run's shared server (scaleout_postgres_fixture) hands the tests:
// a state file another process attaches to. The attached side makes
// databases of its own, cannot stop the server, and drops its databases
// when it ends.
TEST(PostgresServerTest, AnAttachedServerSharesTheServerButNotItsDatabasesOrItsLife) {
  if (!PostgresServer::FindBinDir()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  auto started = PostgresServer::Start();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  PostgresServer& owner = **started;
  TempDir dir;
  const fs::path state = dir / "postgres.state";
  ASSERT_TRUE(owner.WriteState(state, getpid()).ok());

  auto attached = PostgresServer::Attach(state);
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  EXPECT_TRUE((*attached)->attached());
  EXPECT_FALSE(owner.attached());
  EXPECT_EQ((*attached)->port(), owner.port());
  auto database = (*attached)->CreateDatabase("shared");
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  EXPECT_NE(database->find("_" + std::to_string(getpid()) + "_"), std::string::npos) << *database;
  const std::string exists = "SELECT count(*) FROM pg_database WHERE datname = '" + *database + "'";
  EXPECT_EQ(*owner.Psql(exists), "1");

  // Through the attached side the role logs in to its database.
  auto storage = plugins::odbc::testing::StartedStorage(
      {{"connection_string", (*attached)->ConnectionString(*database)}});
  ASSERT_NE(storage, nullptr);
  auto connection = plugins::odbc::testing::OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(plugins::odbc::testing::QueryText(*connection, "SELECT current_database()"), *database);

  (*attached)->Stop();  // not its server to stop
  EXPECT_TRUE(owner.Psql("SELECT 1").ok());
  attached->reset();  // drops its database, even with a session still open
  EXPECT_EQ(*owner.Psql(exists), "0");
  EXPECT_TRUE(owner.Psql("SELECT 1").ok());
  connection.reset();
  storage.reset();

  // Bad state files: missing, incomplete, or naming a server that is gone.
  EXPECT_EQ(PostgresServer::Attach(dir / "missing.state").status().code(),
            sdk::StatusCode::kNotFound);
  WriteFile(dir / "incomplete.state", "bin_dir=/usr/bin\nport=not-a-number\n");
  auto incomplete = PostgresServer::Attach(dir / "incomplete.state");
  EXPECT_EQ(incomplete.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(incomplete.status().message().find("incomplete"), std::string::npos)
      << incomplete.status().message();
  owner.Stop();
  auto gone = PostgresServer::Attach(state);
  EXPECT_EQ(gone.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(gone.status().message().find("is gone"), std::string::npos) << gone.status().message();
}

// Waits (bounded) until `path` is gone; true if it went.
bool GoneWithin(const fs::path& path, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (fs::exists(path)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// The server's pid in a state file's text, or -1.
pid_t ServerPidIn(const std::string& state_text) {
  const std::size_t at = state_text.find("server_pid=");
  return at == std::string::npos ? -1 : static_cast<pid_t>(std::stol(state_text.substr(at + 11)));
}

TEST(PostgresFixtureTest, StartsOneServerForARunAndStopsIt) {
  if (!PostgresServer::FindBinDir()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  TempDir dir;
  const fs::path state = dir / "run.state";
  ProcessResult start = RunProcess(SCALEOUT_TEST_POSTGRES_FIXTURE, {"start", state.string()});
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  EXPECT_NE(start.out.find("shared PostgreSQL server: port"), std::string::npos) << start.out;
  const pid_t server = ServerPidIn(ReadFile(state));
  ASSERT_GT(server, 0) << ReadFile(state);
  auto attached = PostgresServer::Attach(state);
  ASSERT_TRUE(attached.ok()) << attached.status().ToString();
  EXPECT_TRUE((*attached)->CreateDatabase("run").ok());
  attached->reset();

  ProcessResult stop = RunProcess(SCALEOUT_TEST_POSTGRES_FIXTURE, {"stop", state.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.out << stop.err;
  EXPECT_FALSE(fs::exists(state));
  EXPECT_NE(kill(server, 0), 0) << "the server outlived its keeper";
  // Stopping again finds nothing to stop; a bad command line is refused.
  EXPECT_EQ(RunProcess(SCALEOUT_TEST_POSTGRES_FIXTURE, {"stop", state.string()}).exit_code, 0);
  // A state file naming no keeper it could stop is refused, and removed.
  WriteFile(state, "keeper_pid=not-a-number\n");
  ProcessResult malformed = RunProcess(SCALEOUT_TEST_POSTGRES_FIXTURE, {"stop", state.string()});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_NE(malformed.err.find("no keeper to stop"), std::string::npos) << malformed.err;
  EXPECT_FALSE(fs::exists(state));
  ProcessResult bad = RunProcess(SCALEOUT_TEST_POSTGRES_FIXTURE, {"begin", state.string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("Usage:"), std::string::npos) << bad.err;
}

// An interrupted run (the process that ran `start` ends without `stop`)
// leaves no server behind: the keeper watches it.
TEST(PostgresFixtureTest, TheServerEndsWithTheRunThatStartedIt) {
  if (!PostgresServer::FindBinDir()) GTEST_SKIP() << "PostgreSQL server binaries not installed";
  TempDir dir;
  const fs::path state = dir / "run.state";
  // The shell is the run here: it starts the fixture, waits for it, and ends.
  ProcessResult run =
      RunProcess("/bin/sh", {"-c", std::string("'") + SCALEOUT_TEST_POSTGRES_FIXTURE + "' start '" +
                                       state.string() + "' && cat '" + state.string() + "'"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const pid_t server = ServerPidIn(run.out);
  ASSERT_GT(server, 0) << run.out;
  EXPECT_TRUE(GoneWithin(state, std::chrono::seconds(60)));
  EXPECT_NE(kill(server, 0), 0) << "the server outlived the run";
}

}  // namespace
}  // namespace scaleout::test

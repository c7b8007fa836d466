// Bad database files and bad environments: every failure must come back with
// the right code and a message that names the file and says what to do, and
// must change nothing on disk.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <random>
#include <string>

#include "test_util.h"

namespace scaleout::plugins::sqlite {
namespace {

using sdk::StatusCode;
using testing::MakeStorage;
using testing::OpenOrFail;
using testing::QueryText;
using testing::RawExec;
using testing::ReadFile;
using testing::StartedStorage;
using testing::TempDir;
using testing::WriteFile;

// Creates then starts a storage over `values`; returns Start()'s status.
sdk::Status StartWith(const sdk::ConfigView::Map& values) {
  auto made = MakeStorage(values);
  if (!made.ok()) return made.status();
  return (*made)->Start();
}

void ExpectMessageHas(const sdk::Status& status, const std::string& needle) {
  EXPECT_NE(status.message().find(needle), std::string::npos)
      << "'" << needle << "' not in: " << status.ToString();
}

// A real database of ~100 pages in rollback-journal mode (so the file alone
// is the whole database), written with the raw SQLite API.
void MakeFixtureDatabase(const std::string& path) {
  ASSERT_EQ(RawExec(path,
                    "PRAGMA page_size=4096; PRAGMA journal_mode=DELETE;"
                    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000)"
                    "INSERT INTO t(v) SELECT printf('%.200c', 'x') FROM n;"),
            "");
}

// Overwrites `length` bytes at `offset` of `path` with deterministic garbage.
void Scribble(const std::string& path, std::size_t offset, std::size_t length) {
  std::string content = ReadFile(path);
  ASSERT_LE(offset + length, content.size());
  std::mt19937 random(42);
  for (std::size_t i = 0; i < length; ++i) content[offset + i] = static_cast<char>(random());
  WriteFile(path, content);
}

TEST(SqliteErrorsTest, TextFileIsNotADatabaseAndIsLeftAlone) {
  TempDir dir;
  const std::string path = dir.File("notes.db");
  const std::string text = std::string(2000, 'x') + "\nthis is a text file, not a database\n";
  WriteFile(path, text);
  sdk::Status status = StartWith({{"path", path}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  ExpectMessageHas(status, "'" + path + "' is not an SQLite database");
  EXPECT_EQ(ReadFile(path), text);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteErrorsTest, ScribbledSchemaPageFailsStartAsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  Scribble(path, 100, 4096 - 100);  // page 1 after the header: the schema b-tree
  const std::string before = ReadFile(path);
  sdk::Status status = StartWith({{"path", path}});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  ExpectMessageHas(status, path);
  ExpectMessageHas(status, "restore the catalog from backup");
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteErrorsTest, ScribbledDataPagesFailTheQueryAsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  Scribble(path, std::size_t{4096} * 2, std::size_t{4096} * 20);  // pages 3..22: table rows
  // The header and schema are intact, so Start() cannot tell (it does not
  // scan the whole file); the first query that reads the pages does.
  auto storage = StartedStorage({{"path", path}, {"journal_mode", "DELETE"}});
  ASSERT_NE(storage, nullptr);
  auto connection = OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  auto select = connection->Prepare("SELECT sum(length(v)) FROM t");
  ASSERT_TRUE(select.ok()) << select.status().ToString();
  auto row = (*select)->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kDataLoss) << row.status().ToString();
  ExpectMessageHas(row.status(), "'" + path + "' is corrupt");
}

TEST(SqliteErrorsTest, TruncatedDatabaseFailsStartAsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  sdk::Status status = StartWith({{"path", path}});
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  ExpectMessageHas(status, path);
}

TEST(SqliteErrorsTest, MissingFileWithCreateFalseIsNotFoundAndNotCreated) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  sdk::Status status = StartWith({{"path", path}, {"create", "false"}});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  ExpectMessageHas(status, "'" + path + "' does not exist");
  ExpectMessageHas(status, "create=true");
  EXPECT_FALSE(std::filesystem::exists(path));

  status = StartWith({{"path", path}, {"read_only", "true"}});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SqliteErrorsTest, MissingDirectoryIsNotFoundNamingTheDirectory) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/catalog.db");
  sdk::Status status = StartWith({{"path", path}});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  ExpectMessageHas(status, dir.File("no/such/dir"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("no")));
}

TEST(SqliteErrorsTest, DirectoryAsPathIsInvalidArgument) {
  TempDir dir;
  sdk::Status status = StartWith({{"path", dir.path().string()}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  ExpectMessageHas(status, "is a directory");
}

TEST(SqliteErrorsTest, ReadOnlyOptionReadsButRefusesWritesAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  auto storage = StartedStorage({{"path", path}, {"read_only", "true"}});
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->Describe(), "sqlite file " + path + " (read-only)");
  auto connection = OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(QueryText(*connection, "SELECT count(*) FROM t"), "2000");

  auto insert = connection->Prepare("INSERT INTO t(v) VALUES ('new')");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  auto step = (*insert)->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kPermissionDenied) << step.status().ToString();
  ExpectMessageHas(step.status(), path);
  ExpectMessageHas(step.status(), "read_only=false");
  EXPECT_EQ(QueryText(*connection, "SELECT count(*) FROM t"), "2000");
}

// Runs `body` as an unprivileged user and returns what it returned. These
// tests run as root in CI, and root ignores file permission bits, so the
// read-only-file cases fork and drop to uid/gid 65534 ("nobody") first; run
// as any other user they call `body` directly.
std::string RunUnprivileged(const std::function<std::string()>& body) {
  if (geteuid() != 0) return body();
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    close(fds[0]);
    std::string result = "could not drop privileges";
    if (setgid(65534) == 0 && setuid(65534) == 0) result = body();
    const ssize_t written = write(fds[1], result.data(), result.size());
    _exit(written == static_cast<ssize_t>(result.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string result;
  char buffer[512];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) result.append(buffer, n);
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  return result;
}

// Returns "code|message" of starting a storage on `path`.
std::string StartResult(const std::string& path) {
  sdk::Status status = StartWith({{"path", path}});
  return std::string(sdk::StatusCodeName(status.code())) + "|" + status.message();
}

TEST(SqliteErrorsTest, FileThatIsReadOnlyForTheUserIsPermissionDenied) {
  TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  std::filesystem::permissions(path, std::filesystem::perms(0444));
  const std::string before = ReadFile(path);
  // SQLite would quietly open such a file read-only; the driver must refuse.
  const std::string result = RunUnprivileged([&] { return StartResult(path); });
  EXPECT_EQ(result.substr(0, result.find('|')), "permission_denied") << result;
  EXPECT_NE(result.find("'" + path + "' is read-only for this user"), std::string::npos) << result;
  EXPECT_NE(result.find("read_only=true"), std::string::npos) << result;
  EXPECT_EQ(ReadFile(path), before);
}

TEST(SqliteErrorsTest, NewFileInReadOnlyDirectoryIsPermissionDenied) {
  TempDir dir;
  const std::string sub = dir.File("ro");
  std::filesystem::create_directory(sub);
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  std::filesystem::permissions(sub, std::filesystem::perms(0555));
  const std::string path = sub + "/catalog.db";
  const std::string result = RunUnprivileged([&] { return StartResult(path); });
  EXPECT_EQ(result.substr(0, result.find('|')), "permission_denied") << result;
  EXPECT_NE(result.find(path), std::string::npos) << result;
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SqliteErrorsTest, WalDatabaseInReadOnlyDirectoryIsPermissionDenied) {
  // The file itself is writable, but WAL needs to create -wal and -shm files
  // next to it; the message must point at the directory too.
  TempDir dir;
  const std::string sub = dir.File("ro");
  std::filesystem::create_directory(sub);
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0755));
  const std::string path = sub + "/catalog.db";
  MakeFixtureDatabase(path);
  ASSERT_EQ(RawExec(path, "PRAGMA journal_mode=WAL;"), "");
  std::filesystem::permissions(path, std::filesystem::perms(0666));
  std::filesystem::permissions(sub, std::filesystem::perms(0555));
  const std::string before = ReadFile(path);
  const std::string result = RunUnprivileged([&] { return StartResult(path); });
  EXPECT_EQ(result.substr(0, result.find('|')), "permission_denied") << result;
  EXPECT_NE(result.find(path), std::string::npos) << result;
  EXPECT_NE(result.find("directory"), std::string::npos) << result;
  EXPECT_EQ(ReadFile(path), before);
}

// Holds BEGIN EXCLUSIVE on `path` through a raw handle, like another master.
class ExclusiveLock {
 public:
  explicit ExclusiveLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE; INSERT INTO t(v) VALUES ('held');", nullptr,
                           nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~ExclusiveLock() { sqlite3_close_v2(db_); }  // rolls the transaction back
  void Release() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

 private:
  sqlite3* db_ = nullptr;
};

TEST(SqliteErrorsTest, WriterLockedByAnotherProcessIsUnavailable) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  auto storage = StartedStorage({{"path", path}, {"busy_timeout_ms", "20"}});
  ASSERT_NE(storage, nullptr);
  auto connection = OpenOrFail(*storage);
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->ExecuteScript("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);").ok());

  ExclusiveLock lock(path);
  sdk::Status status = connection->Begin(sdk::TransactionMode::kWrite);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  ExpectMessageHas(status, "'" + path + "' is locked");
  ExpectMessageHas(status, "raise busy_timeout_ms");
  EXPECT_FALSE(connection->InTransaction());

  auto insert = connection->Prepare("INSERT INTO t(v) VALUES ('mine')");
  ASSERT_TRUE(insert.ok());
  auto step = (*insert)->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kUnavailable) << step.status().ToString();

  // Once the other holder lets go, the same connection and statement work.
  lock.Release();
  step = (*insert)->Step();
  EXPECT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(QueryText(*connection, "SELECT group_concat(v) FROM t"), "mine");
}

TEST(SqliteErrorsTest, RollbackJournalFileLockedExclusivelyFailsStartAsUnavailable) {
  // In rollback-journal mode an EXCLUSIVE lock keeps even readers out, so a
  // second master cannot start at all; it must say why.
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  MakeFixtureDatabase(path);
  ExclusiveLock lock(path);
  sdk::Status status =
      StartWith({{"path", path}, {"journal_mode", "DELETE"}, {"busy_timeout_ms", "20"}});
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  ExpectMessageHas(status, "stop the other master");
}

}  // namespace
}  // namespace scaleout::plugins::sqlite

// Helpers for the storage/sqlite tests: temporary directories, fixture
// databases written with the raw SQLite API (independent of the driver under
// test), and one-line construction of a started SqliteStorage.
#ifndef SCALEOUT_TESTS_PLUGINS_STORAGE_SQLITE_TEST_UTIL_H_
#define SCALEOUT_TESTS_PLUGINS_STORAGE_SQLITE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "plugins/storage/sqlite/storage.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"

namespace scaleout::plugins::sqlite::testing {

// A fresh directory, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "scaleout-sqlite-XXXXXX");
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    // A test may have made the directory read-only; make it removable again.
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Runs `sql` on `path` with the raw SQLite API (creating the file), so
// fixtures do not depend on the code under test. Returns "" or the error.
inline std::string RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::string error;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) error = sqlite3_errmsg(db);
  sqlite3_close_v2(db);
  return error;
}

inline sdk::Logger* TestLogger() {
  static sdk::NullLogger logger;
  return &logger;
}

// Creates a SqliteStorage from `values` as the host would (config checked).
inline sdk::Result<std::unique_ptr<SqliteStorage>> MakeStorage(const sdk::ConfigView::Map& values) {
  sdk::ConfigView view(values, "storage.sqlite");
  sdk::PluginContext context{&view, TestLogger()};
  return SqliteStorage::Create(context);
}

// Creates and starts a storage; fails the test (and returns null) otherwise.
inline std::unique_ptr<SqliteStorage> StartedStorage(const sdk::ConfigView::Map& values) {
  auto made = MakeStorage(values);
  if (!made.ok()) {
    ADD_FAILURE() << made.status().ToString();
    return nullptr;
  }
  sdk::Status started = (*made)->Start();
  if (!started.ok()) {
    ADD_FAILURE() << started.ToString();
    return nullptr;
  }
  return std::move(made).value();
}

// Opens a connection or fails the test.
inline std::unique_ptr<sdk::Connection> OpenOrFail(sdk::Storage& storage) {
  auto opened = storage.Open();
  if (!opened.ok()) {
    ADD_FAILURE() << opened.status().ToString();
    return nullptr;
  }
  return std::move(opened).value();
}

// Runs a one-row, one-column query and returns the column as text.
inline std::string QueryText(sdk::Connection& connection, const std::string& sql) {
  auto statement = connection.Prepare(sql);
  if (!statement.ok()) return "prepare failed: " + statement.status().ToString();
  auto row = (*statement)->Step();
  if (!row.ok()) return "step failed: " + row.status().ToString();
  if (!*row) return "no row";
  return std::string((*statement)->ColumnText(0));
}

}  // namespace scaleout::plugins::sqlite::testing

#endif  // SCALEOUT_TESTS_PLUGINS_STORAGE_SQLITE_TEST_UTIL_H_

// Helpers for the storage/odbc tests: construction of a started OdbcStorage
// from config values, a fresh database per test on the real PostgreSQL of
// the test binary or in a temp SQLite file, and one-line queries.
#ifndef SCALEOUT_TESTS_PLUGINS_STORAGE_ODBC_TEST_UTIL_H_
#define SCALEOUT_TESTS_PLUGINS_STORAGE_ODBC_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "plugins/storage/odbc/storage.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "tests/support/postgres_server.h"
#include "tests/support/test_util.h"

namespace scaleout::plugins::odbc::testing {

inline sdk::Logger* TestLogger() {
  static sdk::NullLogger logger;
  return &logger;
}

// Creates an OdbcStorage from `values` as the host would (config checked).
inline sdk::Result<std::unique_ptr<OdbcStorage>> MakeStorage(const sdk::ConfigView::Map& values,
                                                             sdk::Logger* logger = TestLogger()) {
  sdk::ConfigView view(values, "storage.odbc");
  sdk::PluginContext context{&view, logger};
  return OdbcStorage::Create(context);
}

// Creates and starts a storage; fails the test (and returns null) otherwise.
inline std::unique_ptr<OdbcStorage> StartedStorage(const sdk::ConfigView::Map& values,
                                                   sdk::Logger* logger = TestLogger()) {
  auto made = MakeStorage(values, logger);
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

// Runs a statement without rows; returns its status.
inline sdk::Status Exec(sdk::Connection& connection, const std::string& sql) {
  auto statement = connection.Prepare(sql);
  if (!statement.ok()) return statement.status();
  auto row = (*statement)->Step();
  return row.status();
}

// The shared PostgreSQL server of this test binary, or skips the test when
// the server binaries are not installed (any other failure fails it).
#define SCALEOUT_POSTGRES_OR_SKIP(server)                                          \
  auto server##_result = ::scaleout::test::PostgresServer::Shared();               \
  if (!server##_result.ok() &&                                                     \
      server##_result.status().code() == ::scaleout::sdk::StatusCode::kNotFound) { \
    GTEST_SKIP() << server##_result.status().ToString();                           \
  }                                                                                \
  ASSERT_TRUE(server##_result.ok()) << server##_result.status().ToString();        \
  ::scaleout::test::PostgresServer* server = *server##_result

}  // namespace scaleout::plugins::odbc::testing

#endif  // SCALEOUT_TESTS_PLUGINS_STORAGE_ODBC_TEST_UTIL_H_

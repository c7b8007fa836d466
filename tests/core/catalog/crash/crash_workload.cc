#include "tests/core/catalog/crash/crash_workload.h"

#include <charconv>
#include <filesystem>

#include "scaleout/sdk/config.h"

namespace scaleout::core::catalog::crash {

using sdk::Connection;
using sdk::Result;
using sdk::Status;

namespace {

Result<std::int64_t> QueryInt(Connection& c, std::string_view sql) {
  SCALEOUT_ASSIGN_OR_RETURN(auto s, c.Prepare(sql));
  SCALEOUT_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return Status::NotFound("no row for " + std::string(sql));
  return s->ColumnInt64(0);
}

Status StepAndReset(sdk::Statement* s) {
  auto stepped = s->Step();
  Status reset = s->Reset();
  if (!stepped.ok()) return stepped.status();
  return reset;
}

}  // namespace

Result<host::PluginPtr<sdk::Storage>> OpenStorage(host::PluginLoader& loader,
                                                  const std::string& plugin_dir,
                                                  const std::string& database) {
  const std::filesystem::path file =
      std::filesystem::path(plugin_dir) / "libscaleout_storage_sqlite.so";
  if (loader.LoadedNames().empty()) SCALEOUT_RETURN_IF_ERROR(loader.LoadFile(file));
  const sdk::ConfigView::Map values{
      {"path", database}, {"synchronous", "FULL"}, {"journal_mode", "WAL"}};
  SCALEOUT_ASSIGN_OR_RETURN(
      auto storage, loader.CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite")));
  SCALEOUT_RETURN_IF_ERROR(storage->Start());
  return storage;
}

Status PrepareDatabase(sdk::Storage& storage) {
  SCALEOUT_ASSIGN_OR_RETURN(auto connection, storage.Open());
  return connection->ExecuteScript(
      "BEGIN IMMEDIATE;"
      "CREATE TABLE IF NOT EXISTS crash_item(id INTEGER PRIMARY KEY, payload TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS crash_counter(k INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
      "INSERT OR IGNORE INTO crash_counter(k, n) VALUES (1, 0);"
      "COMMIT;");
}

Status Insert(Connection& connection, std::int64_t id) {
  SCALEOUT_ASSIGN_OR_RETURN(
      sdk::Statement * insert,
      connection.PrepareCached("INSERT INTO crash_item(id, payload) VALUES (?, ?)"));
  SCALEOUT_RETURN_IF_ERROR(insert->BindInt64(1, id));
  // A payload big enough that a batch spans several pages.
  SCALEOUT_RETURN_IF_ERROR(
      insert->BindText(2, "item payload " + std::to_string(id) + std::string(64, 'x')));
  SCALEOUT_RETURN_IF_ERROR(StepAndReset(insert));
  SCALEOUT_ASSIGN_OR_RETURN(
      sdk::Statement * bump,
      connection.PrepareCached("UPDATE crash_counter SET n = n + 1 WHERE k = 1"));
  return StepAndReset(bump);
}

Acknowledged ParseLines(std::string_view output) {
  Acknowledged acks;
  while (!output.empty()) {
    const std::size_t end = output.find('\n');
    if (end == std::string_view::npos) {
      acks.partial_line = std::string(output);
      break;
    }
    const std::string_view line = output.substr(0, end);
    output.remove_prefix(end + 1);
    if (line == "ready") {
      acks.ready = true;
    } else if (line.size() > 2 && line.substr(0, 2) == "i ") {
      std::int64_t id = 0;
      std::from_chars(line.data() + 2, line.data() + line.size(), id);
      acks.inserted.push_back(id);
    }
  }
  return acks;
}

Status Verify(sdk::Storage& storage, const std::vector<std::int64_t>& acknowledged) {
  SCALEOUT_ASSIGN_OR_RETURN(auto c, storage.Open());
  {
    SCALEOUT_ASSIGN_OR_RETURN(auto check, c->Prepare("PRAGMA integrity_check"));
    SCALEOUT_ASSIGN_OR_RETURN(bool row, check->Step());
    if (!row || check->ColumnText(0) != "ok") {
      return Status::DataLoss("integrity_check: " +
                              (row ? std::string(check->ColumnText(0)) : std::string("no row")));
    }
  }
  SCALEOUT_ASSIGN_OR_RETURN(auto find, c->Prepare("SELECT count(*) FROM crash_item WHERE id = ?"));
  for (std::int64_t id : acknowledged) {
    SCALEOUT_RETURN_IF_ERROR(find->BindInt64(1, id));
    SCALEOUT_ASSIGN_OR_RETURN(bool row, find->Step());
    const bool present = row && find->ColumnInt64(0) == 1;
    SCALEOUT_RETURN_IF_ERROR(find->Reset());
    if (!present) return Status::DataLoss("acknowledged item " + std::to_string(id) + " is lost");
  }
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t items, QueryInt(*c, "SELECT count(*) FROM crash_item"));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t counted,
                            QueryInt(*c, "SELECT n FROM crash_counter WHERE k = 1"));
  if (items != counted) {
    return Status::DataLoss("half-applied op: " + std::to_string(items) + " items but counter " +
                            std::to_string(counted));
  }
  return Status::Ok();
}

}  // namespace scaleout::core::catalog::crash

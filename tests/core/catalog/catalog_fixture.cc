#include "catalog_fixture.h"

#include "core/catalog/types.h"
#include "tests/support/postgres_server.h"

namespace scaleout::core::catalog::testing {

namespace {

std::string Expand(std::string value, const std::string& dir) {
  const std::string token = "{dir}";
  for (std::size_t at = value.find(token); at != std::string::npos; at = value.find(token)) {
    value.replace(at, token.size(), dir);
  }
  return value;
}

// Every table of schema 1, in a fixed order.
constexpr const char* kTables[] = {"schema_version",
                                   "id_counters",
                                   "folders",
                                   "projects",
                                   "object_versions",
                                   "packages",
                                   "object_parameters",
                                   "environments",
                                   "environment_variables",
                                   "environment_references",
                                   "executions",
                                   "execution_parameter_values",
                                   "execution_workers",
                                   "tasks",
                                   "worker_agents",
                                   "worker_task_counts",
                                   "master_properties",
                                   "catalog_properties",
                                   "operations",
                                   "event_messages",
                                   "principals",
                                   "principal_roles",
                                   "schedules"};

}  // namespace

host::PluginPtr<sdk::Storage> CatalogTest::MakeStorage() {
  sdk::ConfigView view(config_, GetParam().plugin);
  auto storage = loader_->CreateStorage(GetParam().plugin, view);
  EXPECT_TRUE(storage.ok()) << storage.status().ToString();
  if (!storage.ok()) return nullptr;
  sdk::Status started = (*storage)->Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  return std::move(storage).value();
}

host::PluginPtr<sdk::Storage> CatalogTest::MakeStorageOnOtherDatabase(const std::string& name) {
  sdk::ConfigView::Map other = config_;
  for (auto& [key, value] : other) {
    if (key == "path") value = (dir_.path() / (name + ".db")).string();
    // storage/odbc: another file, or another database on the test server.
    if (key == "connection_string" && dialect().name == "sqlite") {
      value.replace(value.find("catalog.db"), 10, name + ".db");
    } else if (key == "connection_string") {
      auto server = test::PostgresServer::Shared();
      EXPECT_TRUE(server.ok()) << server.status().ToString();
      if (!server.ok()) return nullptr;
      auto database = (*server)->CreateDatabase(name);
      EXPECT_TRUE(database.ok()) << database.status().ToString();
      if (!database.ok()) return nullptr;
      value = (*server)->ConnectionString(*database);
    }
  }
  config_.swap(other);
  host::PluginPtr<sdk::Storage> storage = MakeStorage();
  config_.swap(other);
  return storage;
}

void CatalogTest::SetUp() {
  loader_ = std::make_unique<host::PluginLoader>(logger_);
  sdk::Status loaded = test::LoadInTreePlugin(*loader_, GetParam().plugin);
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();
  for (const auto& [key, value] : GetParam().config)
    config_[key] = Expand(value, dir_.path().string());
  for (auto& [key, value] : config_) {
    if (value != "{postgres}") continue;
    auto server = test::PostgresServer::Shared();
    if (Code(server) == sdk::StatusCode::kNotFound) GTEST_SKIP() << server.status().ToString();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto database = (*server)->CreateDatabase("catalog");
    ASSERT_TRUE(database.ok()) << database.status().ToString();
    value = (*server)->ConnectionString(*database);
  }
  storage_ = MakeStorage();
  ASSERT_NE(storage_, nullptr);
  auto opened = OpenCatalog(*storage_, clock_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  connection_ = std::move(opened).value();
}

void CatalogTest::TearDown() {
  connection_.reset();
  if (storage_) storage_->Stop();
  storage_.reset();
}

sdk::Status CatalogTest::Tx(const std::function<sdk::Status(Txn&)>& fn) {
  return RunInTransaction(conn(), sdk::TransactionMode::kWrite, [&](sdk::Connection& c) {
    Txn txn{c, dialect(), now(), txn_key_};
    return fn(txn);
  });
}

std::string CatalogTest::Snapshot(const std::set<std::string>& skip) {
  std::string out;
  for (const char* table : kTables) {
    if (skip.count(table) != 0) continue;
    // packages in its columns' first order: migration 4 moves its content last on SQLite.
    const std::string columns =
        std::string_view(table) == "packages"
            ? "package_id, project_id, project_version_lsn, name, content, content_sha256, "
              "entry_point"
            : "*";
    auto stmt = conn().Prepare("SELECT " + columns + " FROM " + table + " ORDER BY 1");
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    if (!stmt.ok()) return out;
    out += std::string("## ") + table + "\n";
    for (;;) {
      auto row = (*stmt)->Step();
      EXPECT_TRUE(row.ok()) << row.status().ToString();
      if (!row.ok() || !*row) break;
      for (int i = 0; i < (*stmt)->ColumnCount(); ++i) {
        switch ((*stmt)->ColumnType(i)) {
          case sdk::ValueType::kNull: out += "NULL"; break;
          case sdk::ValueType::kInt64: out += std::to_string((*stmt)->ColumnInt64(i)); break;
          case sdk::ValueType::kDouble: out += std::to_string((*stmt)->ColumnDouble(i)); break;
          case sdk::ValueType::kText: out += "'" + std::string((*stmt)->ColumnText(i)) + "'"; break;
          case sdk::ValueType::kBlob:
            out += "x" + std::to_string((*stmt)->ColumnBlob(i).size());
            break;
        }
        out += "|";
      }
      out += "\n";
    }
  }
  return out;
}

namespace {
std::int64_t ReadCount(sdk::Connection& c, const char* sql, const std::string& worker) {
  auto stmt = c.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
  if (!stmt.ok()) return -1;
  EXPECT_TRUE((*stmt)->BindText(1, worker).ok());
  auto row = (*stmt)->Step();
  EXPECT_TRUE(row.ok() && *row) << "no row for worker " << worker;
  if (!row.ok() || !*row) return -1;
  return (*stmt)->ColumnInt64(0);
}
}  // namespace

std::int64_t CatalogTest::ClaimedCount(const std::string& worker) {
  return ReadCount(conn(),
                   "SELECT claimed_task_count FROM worker_task_counts WHERE worker_agent_id = ?",
                   worker);
}

std::int64_t CatalogTest::RunningCount(const std::string& worker) {
  return ReadCount(conn(), "SELECT COUNT(*) FROM tasks WHERE worker_agent_id = ? AND status = 2",
                   worker);
}

std::vector<std::int64_t> CatalogTest::ListedIds(ExecutionStatus status) {
  ExecutionFilter filter;
  filter.status = status;
  auto listed =
      TxR<std::vector<Execution>>([&](Txn& t) { return ListExecutions(t, admin_, filter); });
  EXPECT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::int64_t> ids;
  if (listed.ok()) {
    for (const Execution& e : *listed) ids.push_back(e.execution_id);
  }
  return ids;
}

std::vector<std::int64_t> CatalogTest::ScannedIds(ExecutionStatus status) {
  auto q = conn().Prepare(
      "SELECT execution_id FROM executions WHERE status = ? ORDER BY execution_id DESC");
  EXPECT_TRUE(q.ok());
  std::vector<std::int64_t> ids;
  if (!q.ok()) return ids;
  EXPECT_TRUE((*q)->BindInt64(1, static_cast<int>(status)).ok());
  for (;;) {
    auto row = (*q)->Step();
    EXPECT_TRUE(row.ok());
    if (!row.ok() || !*row) break;
    ids.push_back((*q)->ColumnInt64(0));
  }
  return ids;
}

void CatalogTest::DeployBasic() {
  // The folder is made by the first deploy; a later one is a new version.
  auto folder = TxR<std::int64_t>([&](Txn& t) { return CreateFolder(t, admin_, "F"); });
  ASSERT_TRUE(folder.ok() || folder.status().code() == sdk::StatusCode::kAlreadyExists)
      << folder.status().ToString();
  ProjectDeployment d;
  d.folder_name = "F";
  d.project_name = "P";
  d.packages = {{"Main.dtsx", "<main/>", true}, {"Child.dtsx", "<child/>", false}};
  ParameterSpec conn_param;
  conn_param.object_type = kObjectProject;
  conn_param.name = "Conn";
  conn_param.data_type = "String";
  conn_param.default_value = "db";
  ParameterSpec rows;
  rows.object_type = kObjectPackage;
  rows.object_name = "Main.dtsx";
  rows.name = "Rows";
  rows.data_type = "Int32";
  rows.required = true;
  ParameterSpec secret;
  secret.object_type = kObjectProject;
  secret.name = "Password";
  secret.default_value = "hunter2";
  secret.sensitive = true;
  d.parameters = {conn_param, rows, secret};
  auto deployed = TxR<DeployResult>([&](Txn& t) { return DeployProject(t, admin_, d); });
  ASSERT_TRUE(deployed.ok()) << deployed.status().ToString();
}

ProjectDeployment CatalogTest::NextVersion(std::vector<ParameterSpec> parameters,
                                           std::string content) {
  ProjectDeployment d;
  d.folder_name = "F";
  d.project_name = "P";
  d.packages = {{"Main.dtsx", std::move(content), true}};
  d.parameters = std::move(parameters);
  return d;
}

void CatalogTest::EnableScaleOut() {
  ASSERT_TRUE(Tx([&](Txn& t) { return EnableScaleout(t, admin_); }).ok());
}

std::string CatalogTest::AddWorker(char seed, bool enable, std::int64_t max_tasks) {
  AddWorkerRequest request;
  request.cert_sha256 = Thumb(seed);
  request.machine_name = std::string("host-") + seed;
  auto id = TxR<std::string>([&](Txn& t) { return AddWorkerAgent(t, admin_, request); });
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return "";
  WorkerRegistration reg;
  reg.cert_sha256 = Thumb(seed);
  reg.machine_name = request.machine_name;
  reg.user_account = "svc";
  reg.max_task_count = max_tasks;
  auto registered = TxR<WorkerAgent>([&](Txn& t) { return RegisterWorker(t, reg); });
  EXPECT_TRUE(registered.ok()) << registered.status().ToString();
  if (enable) {
    sdk::Status s = Tx([&](Txn& t) { return EnableWorkerAgent(t, admin_, *id); });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return *id;
}

std::int64_t CatalogTest::CreatedExecution(bool useanyworker) {
  CreateExecutionRequest r;
  r.folder_name = "F";
  r.project_name = "P";
  r.package_name = "Main.dtsx";
  r.runinscaleout = true;
  r.useanyworker = useanyworker;
  auto id = TxR<std::int64_t>([&](Txn& t) { return CreateExecution(t, admin_, r); });
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return 0;
  sdk::Status s =
      Tx([&](Txn& t) { return SetExecutionParameterValue(t, admin_, *id, 30, "Rows", "5"); });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return *id;
}

std::int64_t CatalogTest::StartedExecution(std::int64_t retry_count, bool useanyworker,
                                           const std::vector<std::string>& workers) {
  std::int64_t id = CreatedExecution(useanyworker);
  for (const std::string& w : workers) {
    sdk::Status s = Tx([&](Txn& t) { return AddExecutionWorker(t, admin_, id, w); });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  sdk::Status s = Tx([&](Txn& t) { return StartExecution(t, admin_, id, retry_count); });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return id;
}

Execution CatalogTest::Exec(std::int64_t id) {
  auto e = TxR<Execution>([&](Txn& t) { return GetExecution(t, admin_, id); });
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? *e : Execution{};
}

std::vector<Task> CatalogTest::Tasks(std::int64_t id) {
  auto tasks = TxR<std::vector<Task>>([&](Txn& t) { return ListExecutionTasks(t, admin_, id); });
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  return tasks.ok() ? *tasks : std::vector<Task>{};
}

std::vector<ClaimedTask> CatalogTest::Claim(const std::string& worker, std::int64_t max,
                                            std::int64_t lease_ms) {
  auto claimed =
      TxR<std::vector<ClaimedTask>>([&](Txn& t) { return ClaimTasks(t, worker, max, lease_ms); });
  EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
  return claimed.ok() ? *claimed : std::vector<ClaimedTask>{};
}

// Add a backend here and the whole suite runs on it too.
std::vector<StorageParam> Backends() {
  std::vector<StorageParam> backends = {StorageParam{
      "sqlite", "storage/sqlite", {{"path", "{dir}/catalog.db"}, {"synchronous", "NORMAL"}}}};
#ifdef SCALEOUT_TEST_WITH_ODBC
  // "{postgres}": a fresh database on this binary's PostgreSQL test server.
  backends.push_back({"odbc_postgresql", "storage/odbc", {{"connection_string", "{postgres}"}}});
  backends.push_back({"odbc_sqlite",
                      "storage/odbc",
                      {{"connection_string", "Driver=SQLite3;Database={dir}/catalog.db"}}});
#endif
  return backends;
}

}  // namespace scaleout::core::catalog::testing

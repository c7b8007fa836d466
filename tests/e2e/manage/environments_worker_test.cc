// Environments end to end: `scaleout manage env ...` and `project param`
// configure a deployed project; executions run on a real worker with
// `exec run --env-ref`, and the package sees each value of the environment
// it was run with (a sensitive one masked in its output).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <iterator>

#include <string>
#include <vector>

#include "core/master/catalog_key_file.h"
#include "tests/e2e/scaleout/cluster.h"

namespace scaleout::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class EnvironmentsOnWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartMaster();
    ASSERT_FALSE(HasFatalFailure());
    cluster_.AddWorker("w1");
    ASSERT_FALSE(HasFatalFailure());
    const fs::path project = cluster_.dir() / "project";
    WriteFile(project / "load.sh",
              "#!/bin/sh\necho \"server=$SCALEOUT_PARAM_SERVER rows=$SCALEOUT_PARAM_ROWS "
              "password=$SCALEOUT_PARAM_PASSWORD length=${#SCALEOUT_PARAM_PASSWORD}\"\n");
    WriteFile(project / "project.json",
              R"({"entry_points": ["load.sh"],
                  "parameters": [
                    {"name": "Server", "data_type": "String", "default": "localhost"},
                    {"name": "Password", "data_type": "String", "sensitive": true},
                    {"name": "Rows", "data_type": "Int32", "package": "load.sh",
                     "required": true}]})");
    cluster_.Deploy("F", "P", project);
  }

  ProcessResult Manage(const std::vector<std::string>& args) { return cluster_.Manage(args); }
  void Ok(const std::vector<std::string>& args) {
    const ProcessResult r = Manage(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.err;
  }
  // The package's output line of execution `id`, once it ended.
  std::string Output(std::int64_t id) {
    const std::vector<json> shown = cluster_.WaitAll({id}, std::chrono::seconds(60));
    EXPECT_EQ(shown.at(0)["status_name"], "succeeded") << shown.at(0).dump(2);
    return Manage({"exec", "log", std::to_string(id)}).out;
  }
  std::int64_t Reference(const std::string& env) {
    const json r = cluster_.ManageJson({"env", "ref", env, "--folder", "F", "--project", "P"});
    return r.at("reference_id").get<std::int64_t>();
  }

  Cluster cluster_;
};

TEST_F(EnvironmentsOnWorkerTest, AnExecutionGetsTheValuesOfTheEnvironmentItRunsWith) {
  for (const std::string env : {"Prod", "Test"}) {
    Ok({"env", "create", env, "--folder", "F", "--description", env + " settings"});
  }
  Ok({"env", "var", "Prod", "--folder", "F", "DbServer=prod-db"});
  Ok({"env", "var", "Prod", "--folder", "F", "BatchRows=1000", "--type", "Int32"});
  Ok({"env", "var", "Prod", "--folder", "F", "DbPassword=pr0d-secret", "--sensitive"});
  Ok({"env", "var", "Test", "--folder", "F", "DbServer=test-db"});
  Ok({"env", "var", "Test", "--folder", "F", "BatchRows=10", "--type", "Int32"});
  Ok({"env", "var", "Test", "--folder", "F", "DbPassword=t3st-secret", "--sensitive"});
  const std::int64_t prod = Reference("Prod");
  const std::int64_t test = Reference("Test");
  Ok({"project", "param", "--folder", "F", "--project", "P", "Server", "--env-var", "DbServer"});
  Ok({"project", "param", "--folder", "F", "--project", "P", "Password", "--env-var",
      "DbPassword"});
  Ok({"project", "param", "--folder", "F", "--project", "P", "--package", "load.sh", "Rows",
      "--env-var", "BatchRows"});

  // Validation: both environments can run load.sh.
  ProcessResult valid = Manage({"project", "validate", "--folder", "F", "--project", "P"});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_TRUE(Contains(valid.out, "Valid: 2 package and environment combinations")) << valid.out;

  // What an operator sees: the bindings, never a sensitive value.
  const ProcessResult listed = Manage({"env", "list", "--folder", "F"});
  EXPECT_TRUE(Contains(listed.out, "prod-db")) << listed.out;
  EXPECT_TRUE(Contains(listed.out, "(sensitive)")) << listed.out;
  EXPECT_FALSE(Contains(listed.out, "pr0d-secret")) << listed.out;
  const ProcessResult params = Manage({"project", "params", "--folder", "F", "--project", "P"});
  EXPECT_TRUE(Contains(params.out, "-> DbServer")) << params.out;
  EXPECT_TRUE(Contains(params.out, "-> BatchRows")) << params.out;
  const json refs = cluster_.ManageJson({"env", "refs", "--folder", "F", "--project", "P"});
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(cluster_.ManageJson({"env", "refs"}).size(), 2u);  // every project's
  const ProcessResult table = Manage({"env", "refs"});
  EXPECT_TRUE(Contains(table.out, "F/P")) << table.out;
  EXPECT_EQ(Manage({"env", "refs", "--folder", "F"}).exit_code, 2);  // --project is missing

  const std::int64_t on_prod =
      cluster_.Run("F", "P", "load.sh", {"--env-ref", std::to_string(prod), "--scaleout"});
  const std::int64_t on_test =
      cluster_.Run("F", "P", "load.sh", {"--env-ref", std::to_string(test), "--scaleout"});
  const std::string prod_out = Output(on_prod);
  // The package got the value itself (11 characters), its output shows it masked.
  EXPECT_TRUE(Contains(prod_out, "server=prod-db rows=1000 password=*** length=11")) << prod_out;
  EXPECT_FALSE(Contains(prod_out, "pr0d-secret")) << prod_out;
  EXPECT_TRUE(Contains(Output(on_test), "server=test-db rows=10 password=***"));
  EXPECT_EQ(cluster_.Show(on_prod)["reference_id"], prod);
  const ProcessResult shown = Manage({"exec", "show", std::to_string(on_prod)});
  EXPECT_TRUE(Contains(shown.out, "reference " + std::to_string(prod))) << shown.out;

  // A schedule runs with an environment too (SQL Server Agent's job step).
  Ok({"schedule", "add", "nightly", "--cron", "@daily", "--folder", "F", "--project", "P",
      "--package", "load.sh", "--env-ref", std::to_string(test)});
  const json schedules = cluster_.ManageJson({"schedule", "list"});
  ASSERT_EQ(schedules.size(), 1u);
  EXPECT_EQ(schedules[0]["reference_id"], test);

  // A value given for the run still wins over the environment.
  const std::int64_t overridden = cluster_.Run(
      "F", "P", "load.sh", {"--env-ref", std::to_string(test), "--param", "Rows=3", "--scaleout"});
  EXPECT_TRUE(Contains(Output(overridden), "server=test-db rows=3"));
}

TEST_F(EnvironmentsOnWorkerTest, AnUnresolvableBindingIsRefusedAndCreatesNoExecution) {
  Ok({"env", "create", "Prod", "--folder", "F"});
  Ok({"env", "var", "Prod", "--folder", "F", "BatchRows=many"});  // a String
  const std::int64_t prod = Reference("Prod");
  Ok({"project", "param", "--folder", "F", "--project", "P", "--package", "load.sh", "Rows",
      "--env-var", "BatchRows"});
  const std::vector<std::string> run = {"exec", "run",       "--folder", "F",         "--project",
                                        "P",    "--package", "load.sh",  "--scaleout"};

  // Validation says so before anyone runs it, and creates nothing.
  ProcessResult r = Manage({"project", "validate", "--folder", "F", "--project", "P", "--package",
                            "load.sh", "--env-ref", std::to_string(prod)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.out, "reference " + std::to_string(prod))) << r.out;
  EXPECT_TRUE(Contains(r.out, "of type String in environment 'Prod'")) << r.out;

  r = Manage(run);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "give the execution an environment reference")) << r.err;
  std::vector<std::string> with_ref = run;
  with_ref.insert(with_ref.end(), {"--env-ref", std::to_string(prod)});
  r = Manage(with_ref);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "of type String in environment 'Prod'")) << r.err;
  EXPECT_TRUE(cluster_.ManageJson({"exec", "list"}).empty());

  // Fixed in the environment, the same run works; an unknown variable name
  // or environment is a clear error.
  Ok({"env", "unset", "Prod", "--folder", "F", "BatchRows"});
  Ok({"env", "var", "Prod", "--folder", "F", "BatchRows=4", "--type", "Int32"});
  std::vector<std::string> waited = with_ref;
  waited.insert(waited.end(), {"--wait", "--timeout", "60"});
  r = Manage(waited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Manage({"env", "var", "Nope", "--folder", "F", "X=1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "create it first (create_environment)")) << r.err;
  r = Manage({"env", "delete", "Prod", "--folder", "F"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "delete its references first")) << r.err;
  Ok({"env", "unref", std::to_string(prod)});
  Ok({"env", "delete", "Prod", "--folder", "F"});
  EXPECT_TRUE(cluster_.ManageJson({"env", "list"}).empty());
}

// Sensitive values are sealed in the catalog with the master's catalog key
// (made in DataDir on its first start, mode 0600); the catalog file never
// holds them, and a master without that key refuses to start.
TEST_F(EnvironmentsOnWorkerTest, SensitiveValuesAreSealedAndOnlyTheCatalogKeyOpensThem) {
  if (cluster_.options().storage != "sqlite") GTEST_SKIP() << "reads the SQLite file";
  const fs::path key_file = cluster_.dir() / "master" / "catalog-encryption.key";
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << key_file;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Ok({"env", "create", "Prod", "--folder", "F"});
  Ok({"env", "var", "Prod", "--folder", "F", "DbPassword=pr0d-secret", "--sensitive"});
  const std::int64_t prod = Reference("Prod");
  Ok({"project", "param", "--folder", "F", "--project", "P", "Password", "--env-var",
      "DbPassword"});
  const std::int64_t first = cluster_.Run(
      "F", "P", "load.sh", {"--env-ref", std::to_string(prod), "--param", "Rows=1", "--scaleout"});
  EXPECT_TRUE(Contains(Output(first), "password=*** length=11"));

  cluster_.StopMaster(SIGTERM);
  std::string catalog;
  for (const char* name : {"catalog.db", "catalog.db-wal"}) {
    std::ifstream in(cluster_.dir() / "master" / name, std::ios::binary);
    catalog.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(catalog.size(), 10000u);
  EXPECT_FALSE(Contains(catalog, "pr0d-secret")) << "a sensitive value is in the catalog file";

  // Without its key, or with another, the master does not start.
  const fs::path master_dir = cluster_.dir() / "master";
  auto start_with = [&](const fs::path& key) {
    return RunProcess(HostBinary(),
                      {"master", "--config", (master_dir / "master.json").string(), "--set",
                       "PortNumber=0", "--set", "CatalogEncryptionKeyFile=" + key.string()});
  };
  ProcessResult refused = start_with(cluster_.dir() / "missing.key");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.err + refused.out, "restore the file from your backup"))
      << refused.err << refused.out;
  EXPECT_FALSE(fs::exists(cluster_.dir() / "missing.key"));
  const fs::path other = cluster_.dir() / "other.key";
  ASSERT_TRUE(core::master::LoadCatalogKey(other, true).ok());
  refused = start_with(other);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.err + refused.out, "sealed with catalog key"))
      << refused.err << refused.out;

  // With it, everything opens as before.
  cluster_.StartMaster();
  ASSERT_FALSE(HasFatalFailure());
  const std::int64_t again = cluster_.Run(
      "F", "P", "load.sh", {"--env-ref", std::to_string(prod), "--param", "Rows=2", "--scaleout"});
  EXPECT_TRUE(Contains(Output(again), "rows=2 password=*** length=11"));

  // A new key (SSIS: ALTER MASTER KEY REGENERATE), only with the master stopped.
  const std::vector<std::string> rotate = {"master", "rotate-key", "--config",
                                           (master_dir / "master.json").string()};
  ProcessResult rotated = RunProcess(HostBinary(), rotate);
  EXPECT_EQ(rotated.exit_code, 1);
  EXPECT_TRUE(Contains(rotated.err, "stop the master first")) << rotated.err;
  const auto old_key = core::master::LoadCatalogKey(key_file, false);
  ASSERT_TRUE(old_key.ok());
  cluster_.StopMaster(SIGTERM);
  rotated = RunProcess(HostBinary(), rotate);
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_TRUE(Contains(rotated.out, "sensitive value(s) again with catalog key")) << rotated.out;
  const auto new_key = core::master::LoadCatalogKey(key_file, false);
  ASSERT_TRUE(new_key.ok());
  EXPECT_NE(new_key->key.id(), old_key->key.id());
  const fs::path retired = key_file.string() + ".retired-" + old_key->key.id();
  EXPECT_TRUE(fs::exists(retired));
  // The retired key no longer starts the master; the new one does.
  refused = start_with(retired);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.err + refused.out, "sealed with catalog key " + new_key->key.id()))
      << refused.err << refused.out;
  cluster_.StartMaster();
  ASSERT_FALSE(HasFatalFailure());
  const std::int64_t rotated_run = cluster_.Run(
      "F", "P", "load.sh", {"--env-ref", std::to_string(prod), "--param", "Rows=3", "--scaleout"});
  EXPECT_TRUE(Contains(Output(rotated_run), "rows=3 password=*** length=11"));
}

// SSMS's Versions dialog: `project versions` lists what the catalog keeps,
// `project restore` makes an earlier version current again, and the next
// execution runs that version's package on the worker.
TEST_F(EnvironmentsOnWorkerTest, ARestoredVersionIsWhatTheNextExecutionRuns) {
  const json first =
      cluster_.ManageJson({"project", "versions", "--folder", "F", "--project", "P"});
  ASSERT_EQ(first.size(), 1u);
  const std::int64_t v1 = first[0].at("object_version_lsn").get<std::int64_t>();
  const fs::path project = cluster_.dir() / "project";
  WriteFile(project / "load.sh", "#!/bin/sh\necho \"version two, rows=$SCALEOUT_PARAM_ROWS\"\n");
  cluster_.Deploy("F", "P", project);
  const std::vector<std::string> run = {"--param", "Rows=4", "--scaleout"};
  EXPECT_TRUE(Contains(Output(cluster_.Run("F", "P", "load.sh", run)), "version two, rows=4"));
  const std::int64_t created_for_v2 =
      cluster_
          .ManageJson({"exec", "create", "--folder", "F", "--project", "P", "--package", "load.sh",
                       "--scaleout"})
          .at("execution_id")
          .get<std::int64_t>();

  const ProcessResult table = Manage({"project", "versions", "--folder", "F", "--project", "P"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(Contains(table.out, "RESTORED BY")) << table.out;
  ProcessResult r =
      Manage({"project", "restore", "--folder", "F", "--project", "P", std::to_string(v1)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "runs version " + std::to_string(v1) + " again")) << r.out;
  const json versions =
      cluster_.ManageJson({"project", "versions", "--folder", "F", "--project", "P"});
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_FALSE(versions[0].at("current").get<bool>());  // newest first: version 2
  EXPECT_TRUE(versions[1].at("current").get<bool>());
  EXPECT_EQ(versions[1].at("restored_by"), "admin");
  EXPECT_FALSE(versions[1].at("last_restored_time").is_null());

  const std::string out = Output(cluster_.Run("F", "P", "load.sh", run));
  EXPECT_TRUE(Contains(out, "server=localhost rows=4")) << out;
  EXPECT_FALSE(Contains(out, "version two")) << out;
  // One created for version 2 can no longer start; an unknown version is refused.
  r = Manage({"exec", "start", std::to_string(created_for_v2)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "redeployed or restored")) << r.err;
  r = Manage({"project", "restore", "--folder", "F", "--project", "P", "999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "has no version 999999")) << r.err;
  r = Manage({"project", "restore", "--folder", "F", "--project", "P"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // VERSION is missing

  // SSMS's Export: version 2 as a directory that deploy takes back.
  const fs::path exported = cluster_.dir() / "exported";
  const std::string v2 = std::to_string(versions[0].at("object_version_lsn").get<std::int64_t>());
  r = Manage(
      {"project", "export", "--folder", "F", "--project", "P", "--version", v2, exported.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "sensitive defaults are not exported")) << r.out;
  EXPECT_TRUE(fs::exists(exported / "load.sh"));
  EXPECT_TRUE(fs::exists(exported / "project.json"));
  EXPECT_EQ(
      Manage({"project", "export", "--folder", "F", "--project", "P", exported.string()}).exit_code,
      1);  // never over files that exist
  cluster_.Deploy("F", "Copy", exported);
  EXPECT_TRUE(Contains(Output(cluster_.Run("F", "Copy", "load.sh", run)), "version two, rows=4"));
}

// SSIS's set_environment_variable_protection, _type and _property,
// set_environment_property and set_folder_description from the command line.
TEST_F(EnvironmentsOnWorkerTest, VariablesEnvironmentsAndFoldersChangeTheirPropertiesInPlace) {
  Ok({"env", "create", "Prod", "--folder", "F"});
  Ok({"env", "var", "Prod", "--folder", "F", "DbPassword=s3cret-value"});
  Ok({"env", "alter", "Prod", "--folder", "F", "DbPassword", "--sensitive", "--description",
      "the loader's password"});
  json listed = cluster_.ManageJson({"env", "list", "--folder", "F"});
  ASSERT_EQ(listed.size(), 1u);
  json variable = listed[0]["variables"][0];
  EXPECT_TRUE(variable["sensitive"].get<bool>());
  EXPECT_TRUE(variable["value"].is_null());
  EXPECT_EQ(variable["description"], "the loader's password");
  // Sealed now, and still what a package gets.
  const std::int64_t prod = Reference("Prod");
  Ok({"project", "param", "--folder", "F", "--project", "P", "Password", "--env-var",
      "DbPassword"});
  EXPECT_TRUE(Contains(
      Output(cluster_.Run("F", "P", "load.sh",
                          {"--env-ref", std::to_string(prod), "--param", "Rows=1", "--scaleout"})),
      "password=*** length=12"));
  Ok({"env", "alter", "Prod", "--folder", "F", "DbPassword", "--plain"});
  variable = cluster_.ManageJson({"env", "list", "--folder", "F"})[0]["variables"][0];
  EXPECT_FALSE(variable["sensitive"].get<bool>());
  EXPECT_EQ(variable["value"], "s3cret-value");

  // A type the value does not parse as is refused, saying what to do.
  ProcessResult r =
      Manage({"env", "alter", "Prod", "--folder", "F", "DbPassword", "--type", "Int32"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "set its value first")) << r.err;
  r = Manage({"env", "alter", "Prod", "--folder", "F", "DbPassword"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "nothing to change")) << r.err;
  r = Manage({"env", "alter", "Prod", "--folder", "F", "Nope", "--plain"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(Contains(r.err, "has no variable 'Nope'")) << r.err;

  Ok({"env", "set", "Prod", "--folder", "F", "--description", "production"});
  EXPECT_EQ(cluster_.ManageJson({"env", "list", "--folder", "F"})[0]["description"], "production");
  Ok({"folder", "set", "F", "--description", "finance loads"});
  const json folders = cluster_.ManageJson({"folder", "list"});
  ASSERT_EQ(folders.size(), 1u);
  EXPECT_EQ(folders[0]["name"], "F");
  EXPECT_EQ(folders[0]["description"], "finance loads");
  EXPECT_TRUE(Contains(Manage({"folder", "list"}).out, "finance loads"));
  EXPECT_EQ(Manage({"folder", "set", "Nope", "--description", "x"}).exit_code, 1);

  // Renames and moves: the references follow.
  Ok({"env", "rename", "Prod", "--folder", "F", "Production"});
  EXPECT_EQ(cluster_.ManageJson(
                {"env", "refs", "--folder", "F", "--project", "P"})[0]["environment_name"],
            "Production");
  Ok({"folder", "rename", "F", "Finance"});
  Ok({"api", "create_folder", "folder_name=Archive"});
  Ok({"project", "move", "--folder", "Finance", "--project", "P", "--to", "Archive"});
  const json projects = cluster_.ManageJson({"project", "list"});
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0]["folder_name"], "Archive");
  r = Manage({"project", "move", "--folder", "Archive", "--project", "P"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "--to is required")) << r.err;
}

}  // namespace
}  // namespace scaleout::test

// `scaleout manage` commands against a real master: success and failure
// paths, --json against the human output, connection and TLS errors, users.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/e2e/manage/master_process.h"

namespace scaleout::test {
namespace {

using nlohmann::json;

class ManageTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(master_.started()); }
  MasterProcess master_;
};

TEST_F(ManageTest, StatusDashboardInHumanAndJsonForms) {
  const ProcessResult human = master_.ManageAsAdmin({"status"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_TRUE(Contains(human.out, "Scale Out")) << human.out;
  EXPECT_TRUE(Contains(human.out, "disabled"));
  EXPECT_TRUE(Contains(human.out, "0 total, 0 online, 0 enabled"));
  const json doc = master_.Json({"status"});
  EXPECT_EQ(doc["scaleout_enabled"], false);
  EXPECT_EQ(doc["workers"]["total"], 0);
  EXPECT_EQ(doc["default_execution_mode"], "Server");
  EXPECT_TRUE(Contains(human.out, doc["default_execution_mode"].get<std::string>()));
}

TEST_F(ManageTest, EnableScaleoutAndCatalogProperties) {
  ASSERT_EQ(master_.ManageAsAdmin({"enable-scaleout"}).exit_code, 0);
  EXPECT_EQ(master_.ManageAsAdmin({"catalog", "get", "IS_SCALEOUT_ENABLED"}).out, "True\n");
  ASSERT_EQ(
      master_.ManageAsAdmin({"catalog", "set", "DEFAULT_EXECUTION_MODE", "ScaleOut"}).exit_code, 0);
  EXPECT_EQ(master_.ManageAsAdmin({"catalog", "get", "DEFAULT_EXECUTION_MODE"}).out, "1\n");
  ASSERT_EQ(master_.ManageAsAdmin({"catalog", "set", "RETENTION_WINDOW", "30"}).exit_code, 0);

  // A bad value is refused, says why, and changes nothing.
  const ProcessResult bad = master_.ManageAsAdmin({"catalog", "set", "RETENTION_WINDOW", "0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "RETENTION_WINDOW")) << bad.err;
  EXPECT_EQ(master_.ManageAsAdmin({"catalog", "get", "RETENTION_WINDOW"}).out, "30\n");
  const ProcessResult unknown = master_.ManageAsAdmin({"catalog", "get", "NO_SUCH_PROPERTY"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Contains(unknown.err, "does not exist")) << unknown.err;

  // catalog get: the table and the JSON carry the same properties.
  const ProcessResult table = master_.ManageAsAdmin({"catalog", "get"});
  const json all = master_.Json({"catalog", "get"});
  for (const auto& [name, value] : all.items()) {
    EXPECT_TRUE(Contains(table.out, name)) << name;
    EXPECT_TRUE(Contains(table.out, value.get<std::string>())) << name;
  }
}

TEST_F(ManageTest, WorkerManagerLifecycle) {
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker1");
  const ProcessResult added = master_.ManageAsAdmin(
      {"worker", "add", "--cert-file", worker.cert.string(), "--yes", "--display-name", "first"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(Contains(added.out, "trust the worker certificate " + worker.sha256)) << added.out;
  EXPECT_TRUE(Contains(added.out, "restart the worker") ||
              Contains(added.out, "Restart the worker"));
  const json list = master_.Json({"worker", "list"});
  ASSERT_EQ(list.size(), 1u);
  const std::string id = list[0]["worker_agent_id"];
  EXPECT_EQ(list[0]["is_enabled"], false);  // new workers start disabled, as in SSIS
  EXPECT_EQ(list[0]["cert_sha256"], worker.sha256);
  const ProcessResult human = master_.ManageAsAdmin({"worker", "list"});
  EXPECT_TRUE(Contains(human.out, id)) << human.out;
  EXPECT_TRUE(Contains(human.out, "first"));

  // Adding the same certificate again changes nothing.
  const ProcessResult again =
      master_.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--yes"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.err, "already trusted")) << again.err;

  ASSERT_EQ(master_.ManageAsAdmin({"worker", "set", id, "--description", "rack 4", "--tags", "etl"})
                .exit_code,
            0);
  const json shown = master_.Json({"worker", "show", id});
  EXPECT_EQ(shown["description"], "rack 4");
  EXPECT_EQ(shown["tags"], "etl");
  EXPECT_TRUE(Contains(master_.ManageAsAdmin({"worker", "show", id}).out, "rack 4"));

  ASSERT_EQ(master_.ManageAsAdmin({"worker", "enable", id}).exit_code, 0);
  EXPECT_EQ(master_.Json({"worker", "show", id})["is_enabled"], true);
  ASSERT_EQ(master_.ManageAsAdmin({"worker", "disable", id}).exit_code, 0);
  EXPECT_EQ(master_.Json({"worker", "show", id})["is_enabled"], false);
  ASSERT_EQ(master_.ManageAsAdmin({"worker", "remove", id}).exit_code, 0);
  EXPECT_TRUE(master_.Json({"worker", "list"}).empty());

  // Unknown and malformed ids.
  const ProcessResult unknown =
      master_.ManageAsAdmin({"worker", "enable", "6F9619FF-8B86-D011-B42D-00C04FC964FF"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Contains(unknown.err, "not in the catalog")) << unknown.err;
  const ProcessResult malformed = master_.ManageAsAdmin({"worker", "show", "not-a-guid"});
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_TRUE(Contains(malformed.err, "WorkerAgentId")) << malformed.err;
  EXPECT_EQ(master_.ManageAsAdmin({"worker", "set", id}).exit_code, 2);  // nothing to set
}

TEST_F(ManageTest, WorkerAddFromSettingsWritesTheMasterIntoThem) {
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker2");
  const auto settings = master_.dir() / "worker.json";
  WriteFile(settings, json{{"DisplayName", "w2"},
                           {"WorkerCertFile", "worker2.crt"},
                           {"WorkerKeyFile", "worker2.key"},
                           {"AgentId", "6F9619FF-8B86-D011-B42D-00C04FC964FF"}}
                          .dump(2));
  // Without --yes and no answer on stdin, nothing happens.
  const ProcessResult unconfirmed =
      master_.ManageAsAdmin({"worker", "add", "--settings", settings.string()});
  EXPECT_EQ(unconfirmed.exit_code, 1);
  EXPECT_TRUE(Contains(unconfirmed.err, "not confirmed")) << unconfirmed.err;
  EXPECT_TRUE(master_.Json({"worker", "list"}).empty());

  const ProcessResult added =
      master_.ManageAsAdmin({"worker", "add", "--settings", settings.string(), "--yes"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_TRUE(Contains(added.out, "MasterEndpoint=" + master_.url())) << added.out;
  const json written = json::parse(ReadFile(settings));
  EXPECT_EQ(written["MasterEndpoint"], master_.url());
  EXPECT_EQ(written["MasterHttpsCertThumbprint"], master_.thumbprint());
  EXPECT_EQ(written["DisplayName"], "w2");  // other settings kept
  const json list = master_.Json({"worker", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["worker_agent_id"], "6F9619FF-8B86-D011-B42D-00C04FC964FF");

  // A thumbprint that does not match the certificate is refused.
  const ProcessResult mismatch =
      master_.ManageAsAdmin({"worker", "add", "--cert-file", worker.cert.string(), "--thumbprint",
                             std::string(64, 'A'), "--yes"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_TRUE(Contains(mismatch.err, "does not match")) << mismatch.err;
  const ProcessResult sha1_only =
      master_.ManageAsAdmin({"worker", "add", "--thumbprint", std::string(40, 'A'), "--yes"});
  EXPECT_EQ(sha1_only.exit_code, 2);
  EXPECT_TRUE(Contains(sha1_only.err, "SHA-1")) << sha1_only.err;
}

TEST_F(ManageTest, WorkerAddFromAThumbprintAndFromACurveKey) {
  // From the SHA-256 thumbprint alone (any case, with separators).
  const TestCertificate worker = MakeCertificate(master_.dir(), "worker3");
  std::string spaced;
  for (std::size_t i = 0; i < worker.sha256.size(); i += 2) {
    spaced += (spaced.empty() ? "" : ":") + worker.sha256.substr(i, 2);
  }
  const ProcessResult by_thumbprint =
      master_.ManageAsAdmin({"worker", "add", "--thumbprint", spaced, "--yes"});
  ASSERT_EQ(by_thumbprint.exit_code, 0) << by_thumbprint.err;
  EXPECT_TRUE(Contains(by_thumbprint.out, "trust the worker certificate " + worker.sha256))
      << by_thumbprint.out;

  // A CURVE public key (Z85, as the ZeroMQ transport reports a peer) is
  // trusted exactly as given: Z85 is case-sensitive.
  const std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  const ProcessResult by_key = master_.ManageAsAdmin(
      {"worker", "add", "--curve-key", key, "--display-name", "zmq-1", "--yes"});
  ASSERT_EQ(by_key.exit_code, 0) << by_key.err;
  EXPECT_TRUE(Contains(by_key.out, "trust the worker CURVE public key " + key)) << by_key.out;
  json list = master_.Json({"worker", "list"});
  ASSERT_EQ(list.size(), 2u);
  std::set<std::string> identities;
  for (const json& w : list) identities.insert(w["cert_sha256"].get<std::string>());
  EXPECT_EQ(identities, (std::set<std::string>{worker.sha256, key}));
  const ProcessResult again = master_.ManageAsAdmin({"worker", "add", "--curve-key", key, "--yes"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.err, "CURVE key " + key + " is already trusted")) << again.err;

  // Refusals: usage errors (exit 2) that change nothing.
  for (const std::string& bad : {key.substr(0, 39), key.substr(0, 39) + "~",
                                 std::string(40, 'A') /* hex: a SHA-1 thumbprint */}) {
    const ProcessResult refused =
        master_.ManageAsAdmin({"worker", "add", "--curve-key", bad, "--yes"});
    EXPECT_EQ(refused.exit_code, 2) << bad;
    EXPECT_TRUE(Contains(refused.err, "40 Z85 characters")) << refused.err;
  }
  const ProcessResult both = master_.ManageAsAdmin(
      {"worker", "add", "--curve-key", key, "--cert-file", worker.cert.string(), "--yes"});
  EXPECT_EQ(both.exit_code, 2);
  // The JSON API refuses a malformed identity with the same rule.
  RawApi api;
  const sdk::Response raw =
      api.Call(master_.url(), master_.thumbprint(), "POST", "/api/v1/add_worker_agent",
               json{{"cert_sha256", "not-a-key"}}.dump(), master_.admin_token());
  EXPECT_EQ(raw.status, 400) << raw.body;
  EXPECT_TRUE(Contains(raw.body, "CURVE public key")) << raw.body;
  EXPECT_EQ(master_.Json({"worker", "list"}).size(), 2u);
}

TEST_F(ManageTest, ConnectionAndTrustErrorsSayWhatToDo) {
  // Usage errors: exit 2.
  EXPECT_EQ(master_.ManageAsAdmin({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(master_.ManageAsAdmin({"worker", "list", "--bogus"}).exit_code, 2);
  const ProcessResult no_token = master_.Manage({"status"}, "");
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_TRUE(Contains(no_token.err, "no credential")) << no_token.err;

  // A token that matches nobody.
  const ProcessResult bad_token = master_.Manage({"status"}, "sot_not-a-real-token");
  EXPECT_EQ(bad_token.exit_code, 1);
  EXPECT_TRUE(Contains(bad_token.err, "token is not valid")) << bad_token.err;

  // The wrong pin: the message names the thumbprint seen and the one expected.
  const std::string wrong_pin(64, 'C');
  const ProcessResult wrong =
      master_.Manage({"status", "--master-thumbprint", wrong_pin}, master_.admin_token());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Contains(wrong.err, "TLS trust failure")) << wrong.err;
  EXPECT_TRUE(Contains(wrong.err, master_.thumbprint())) << wrong.err;
  EXPECT_TRUE(Contains(wrong.err, wrong_pin)) << wrong.err;

  // Nobody listening.
  const ProcessResult down =
      master_.Manage({"status", "--master", "https://127.0.0.1:1"}, master_.admin_token());
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_TRUE(Contains(down.err, "cannot reach the master")) << down.err;
}

TEST_F(ManageTest, JsonApiRefusesMalformedRequests) {
  RawApi api;
  const auto call = [&](const std::string& method, const std::string& target,
                        const std::string& body, const std::string& token) {
    return api.Call(master_.url(), master_.thumbprint(), method, target, body, token);
  };
  EXPECT_EQ(call("GET", "/api/v1/health", "", "").status, 200);  // anonymous may ask this
  const sdk::Response not_json =
      call("POST", "/api/v1/enable_worker_agent", "{not json", master_.admin_token());
  EXPECT_EQ(not_json.status, 400);
  EXPECT_TRUE(Contains(not_json.body, "not valid JSON")) << not_json.body;
  EXPECT_EQ(call("POST", "/api/v1/enable_worker_agent", "[1]", master_.admin_token()).status, 400);
  EXPECT_EQ(call("POST", "/api/v1/no_such_operation", "{}", master_.admin_token()).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/enable_scaleout", "", master_.admin_token()).status, 405);
  const sdk::Response anonymous = call("GET", "/api/v1/list_worker_agents", "", "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_TRUE(Contains(anonymous.body, "no credential")) << anonymous.body;
  const sdk::Response get =
      call("GET", "/api/v1/get_catalog_property?property_name=RETENTION_WINDOW", "",
           master_.admin_token());
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(json::parse(get.body)["result"]["property_value"], "365");
  EXPECT_EQ(master_.Json({"catalog", "get", "IS_SCALEOUT_ENABLED"})["property_value"], "False");
}

TEST_F(ManageTest, UsersTokensAndCertificates) {
  const ProcessResult added =
      master_.ManageAsAdmin({"user", "add", "bob", "--role", "reader", "--token"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto at = added.out.find("sot_");
  ASSERT_NE(at, std::string::npos) << added.out;
  const std::string token = added.out.substr(at, added.out.find('\n', at) - at);

  EXPECT_EQ(master_.Manage({"worker", "list"}, token).exit_code, 0);
  const ProcessResult denied = master_.Manage({"enable-scaleout"}, token);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_TRUE(Contains(denied.err, "needs the role ssis_admin")) << denied.err;
  EXPECT_EQ(master_.Json({"catalog", "get", "IS_SCALEOUT_ENABLED"})["property_value"], "False");

  const json users = master_.Json({"user", "list"});
  ASSERT_EQ(users.size(), 2u);  // admin and bob
  EXPECT_EQ(users[1]["name"], "bob");
  EXPECT_FALSE(Contains(users.dump(), token));  // tokens are never shown again
  EXPECT_TRUE(Contains(master_.ManageAsAdmin({"user", "list"}).out, "ssis_reader"));

  // A principal with a client certificate.
  const TestCertificate carol = MakeCertificate(master_.dir(), "carol");
  ASSERT_EQ(master_
                .ManageAsAdmin(
                    {"user", "add", "carol", "--role", "executor", "--cert", carol.cert.string()})
                .exit_code,
            0);
  const ProcessResult by_cert = master_.Manage(
      {"worker", "list", "--cert", carol.cert.string(), "--key", carol.key.string()}, "");
  EXPECT_EQ(by_cert.exit_code, 0) << by_cert.err << master_.stdout_text();

  // Bad input changes nothing.
  EXPECT_EQ(master_.ManageAsAdmin({"user", "add", "bob", "--role", "reader", "--token"}).exit_code,
            1);
  const ProcessResult bad_role =
      master_.ManageAsAdmin({"user", "add", "dan", "--role", "superuser", "--token"});
  EXPECT_EQ(bad_role.exit_code, 1);
  EXPECT_TRUE(Contains(bad_role.err, "unknown role")) << bad_role.err;
  EXPECT_EQ(master_.ManageAsAdmin({"user", "add", "dan", "--role", "reader"}).exit_code, 2);
  const ProcessResult last_admin = master_.ManageAsAdmin({"user", "remove", "admin"});
  EXPECT_EQ(last_admin.exit_code, 1);
  EXPECT_TRUE(Contains(last_admin.err, "last ssis_admin")) << last_admin.err;
  EXPECT_EQ(master_.Json({"user", "list"}).size(), 3u);

  ASSERT_EQ(master_.ManageAsAdmin({"user", "remove", "bob"}).exit_code, 0);
  const ProcessResult revoked = master_.Manage({"worker", "list"}, token);
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_TRUE(Contains(revoked.err, "token is not valid")) << revoked.err;
  EXPECT_EQ(master_.ManageAsAdmin({"user", "remove", "bob"}).exit_code, 1);  // unknown now
}

TEST_F(ManageTest, MasterInitCreatesTheFirstAdminOnce) {
  TempDir dir;
  const TestCertificate cert = MakeCertificate(dir.path(), "master");
  WriteFile(dir / "master.json",
            json{{"SSLCertFile", cert.cert.string()},
                 {"SSLKeyFile", cert.key.string()},
                 {"Plugins", {{"Directory", InTreePluginDir().string()}}},
                 {"PluginSettings", {{"storage.sqlite", {{"path", (dir / "c.db").string()}}}}}}
                .dump());
  const ProcessResult first =
      RunProcess(HostBinary(), {"master", "init", "--config", (dir / "master.json").string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Contains(first.out, "sot_")) << first.out;
  EXPECT_TRUE(Contains(first.out, "SCALEOUT_MASTER_THUMBPRINT=" + cert.sha256)) << first.out;
  const ProcessResult second =
      RunProcess(HostBinary(), {"master", "init", "--config", (dir / "master.json").string()});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(Contains(second.out, "already has principals")) << second.out;
  EXPECT_FALSE(Contains(second.out, "sot_"));
  EXPECT_EQ(RunProcess(HostBinary(), {"master", "init"}).exit_code, 2);
}

}  // namespace
}  // namespace scaleout::test

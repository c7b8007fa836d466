#include "tests/e2e/manage/master_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace scaleout::test {

namespace fs = std::filesystem;

TestCertificate MakeCertificate(const fs::path& dir, const std::string& name) {
  core::security::CertificateRequest request;
  request.common_name = name == "master" ? "localhost" : name;
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  request.cert_file = (dir / (name + ".crt")).string();
  request.key_file = (dir / (name + ".key")).string();
  auto info = core::security::CreateSelfSignedCertificate(request);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return {request.cert_file, request.key_file, info.ok() ? info->sha256_thumbprint : ""};
}

RawApi::RawApi() : loader_(std::make_unique<host::PluginLoader>(logger_)) {
  EXPECT_TRUE(LoadInTreePlugin(*loader_, "transport/https").ok());
  static const sdk::ConfigView::Map kEmpty;
  auto transport = loader_->CreateTransport("https", sdk::ConfigView(kEmpty, "transport.https"));
  EXPECT_TRUE(transport.ok()) << transport.status().ToString();
  if (transport.ok()) {
    transport_ = std::move(transport).value();
    EXPECT_TRUE(transport_->Start().ok());
  }
}

RawApi::~RawApi() {
  if (transport_) transport_->Stop();
}

sdk::Response RawApi::Call(const std::string& url, const std::string& pin,
                           const std::string& method, const std::string& target,
                           const std::string& body, const std::string& token,
                           const TestCertificate* cert) {
  sdk::ClientOptions options;
  options.endpoint = url;
  options.pinned_server_ids = {pin};
  if (cert != nullptr) {
    options.cert_file = cert->cert.string();
    options.key_file = cert->key.string();
  }
  auto client = transport_->Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return sdk::Response{0, "", ""};
  sdk::ClientRequest request;
  request.method = method;
  request.target = target;
  request.content_type = "application/json";
  if (!token.empty()) request.authorization = "Bearer " + token;
  request.body = body;
  auto response = (*client)->Call(request);
  EXPECT_TRUE(response.ok()) << target << ": " << response.status().ToString();
  if (!response.ok()) return sdk::Response{0, "", ""};
  return std::move(response).value();
}

MasterProcess::MasterProcess(std::vector<std::string> extra) : extra_(std::move(extra)) {
  master_cert_ = MakeCertificate(dir_.path(), "master");
  nlohmann::json settings = {
      {"BindAddress", "127.0.0.1"},
      {"SSLCertFile", master_cert_.cert.string()},
      {"SSLKeyFile", master_cert_.key.string()},
      {"Plugins",
       {{"Directory", InTreePluginDir().string()}, {"Transport", "https"}, {"Storage", "sqlite"}}},
      {"PluginSettings", {{"storage.sqlite", {{"path", (dir_ / "catalog.db").string()}}}}}};
  WriteFile(dir_ / "master.json", settings.dump(2));
  Launch();
  // The first start prints the first admin's token once.
  const std::string out = stdout_text();
  const auto at = out.find("\n  sot_");
  if (at != std::string::npos) {
    const auto end = out.find('\n', at + 3);
    admin_token_ = out.substr(at + 3, end - at - 3);
  }
  EXPECT_FALSE(admin_token_.empty()) << "no admin token in the master's output:\n" << out;
}

MasterProcess::~MasterProcess() { Stop(); }

void MasterProcess::Launch() {
  const fs::path port_file = dir_ / "port";
  fs::remove(port_file);
  std::vector<std::string> args = {HostBinary().string(),
                                   "master",
                                   "--config",
                                   (dir_ / "master.json").string(),
                                   "--set",
                                   "PortNumber=0",
                                   "--port-file",
                                   port_file.string()};
  for (const auto& e : extra_) {
    args.push_back("--set");
    args.push_back(e);
  }
  const std::string out_path = (dir_ / "master.out").string();
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait (bounded) for the port file: the master writes it once it listens.
  for (int i = 0; i < 6000; ++i) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "the master did not start:\n" << stdout_text();
}

std::string MasterProcess::stdout_text() const { return ReadFile(dir_ / "master.out"); }

int MasterProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  port_ = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void MasterProcess::Restart() {
  Stop();
  Launch();
}

ProcessResult MasterProcess::Manage(const std::vector<std::string>& args,
                                    const std::string& token) const {
  std::vector<std::string> full = {"manage"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<std::string> env = {
      "SCALEOUT_MASTER=" + url(), "SCALEOUT_MASTER_THUMBPRINT=" + master_cert_.sha256,
      "SCALEOUT_PLUGIN_DIR=" + InTreePluginDir().string(), "SCALEOUT_TOKEN=" + token};
  return RunProcess(HostBinary(), full, env);
}

std::string MasterProcess::AddTokenPrincipal(const std::string& name,
                                             const std::string& role) const {
  const ProcessResult r = ManageAsAdmin({"user", "add", name, "--role", role, "--token"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto at = r.out.find("sot_");
  return at == std::string::npos ? "" : r.out.substr(at, r.out.find('\n', at) - at);
}

nlohmann::json MasterProcess::Json(const std::vector<std::string>& args) const {
  std::vector<std::string> with_json = args;
  with_json.push_back("--json");
  const ProcessResult r = ManageAsAdmin(with_json);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "not JSON:\n" << r.out;
  return doc;
}

}  // namespace scaleout::test

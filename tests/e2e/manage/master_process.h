// A real `scaleout master` child process for end-to-end tests: its own
// certificate, SQLite catalog and settings in a temp folder, HTTPS on
// 127.0.0.1 with a port chosen by the system; plus `scaleout manage` runs
// against it.
//
// Not thread-safe: one test thread drives it.
#ifndef SCALEOUT_TESTS_E2E_MANAGE_MASTER_PROCESS_H_
#define SCALEOUT_TESTS_E2E_MANAGE_MASTER_PROCESS_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/security/certificates.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/transport.h"
#include "tests/support/test_util.h"

namespace scaleout::test {

// A client certificate made for a test (a principal's or a worker's).
struct TestCertificate {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::string sha256;
};

// Creates a self-signed certificate in `dir` named `name`.crt / .key.
TestCertificate MakeCertificate(const std::filesystem::path& dir, const std::string& name);

// The https transport loaded in this process, for raw API calls.
class RawApi {
 public:
  RawApi();
  ~RawApi();
  // One call; `cert` may be null (no client certificate). Fails the test on
  // a transport error and returns status 0 then.
  sdk::Response Call(const std::string& url, const std::string& pin, const std::string& method,
                     const std::string& target, const std::string& body, const std::string& token,
                     const TestCertificate* cert = nullptr);

 private:
  CapturingLogger logger_;
  std::unique_ptr<host::PluginLoader> loader_;
  host::PluginPtr<sdk::Transport> transport_;
};

class MasterProcess {
 public:
  // Starts the master and waits (bounded) for its port file. `extra` are
  // more --set overrides.
  explicit MasterProcess(std::vector<std::string> extra = {});
  ~MasterProcess();  // SIGTERM, then waits for it to exit

  bool started() const { return port_ != 0; }
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& thumbprint() const { return master_cert_.sha256; }
  // The master's (self-signed) certificate, PEM: what a client trusts.
  const std::filesystem::path& cert_file() const { return master_cert_.cert; }
  // The first admin's token, read from the master's first-start notice.
  const std::string& admin_token() const { return admin_token_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::string stdout_text() const;

  // Stops the master (SIGTERM) and waits for it; returns its exit code.
  int Stop();
  // Starts it again on the same catalog and settings.
  void Restart();

  // Runs `scaleout manage ARGS` with the master's URL and pin and `token`
  // ("" for none) in the environment.
  ProcessResult Manage(const std::vector<std::string>& args, const std::string& token) const;
  ProcessResult ManageAsAdmin(const std::vector<std::string>& args) const {
    return Manage(args, admin_token_);
  }
  // `manage --json ARGS` as admin, parsed; fails the test when it does not parse.
  nlohmann::json Json(const std::vector<std::string>& args) const;
  // `manage user add NAME --role ROLE --token` as admin; the new principal's
  // token ("" and a test failure when it was refused).
  std::string AddTokenPrincipal(const std::string& name, const std::string& role) const;

 private:
  void Launch();

  TempDir dir_;
  TestCertificate master_cert_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string admin_token_;
};

}  // namespace scaleout::test

#endif  // SCALEOUT_TESTS_E2E_MANAGE_MASTER_PROCESS_H_

// `scaleout cert` run as a child process, the way an operator runs it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "core/security/certificates.h"

namespace scaleout::core::security {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

RunResult Scaleout(const std::string& arguments) {
  const std::string command = Quote(SCALEOUT_TEST_HOST_BINARY) + " " + arguments + " 2>&1";
  RunResult run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.output.append(buffer, n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class CertCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "scaleout-cert-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  std::string dir_;
};

TEST_F(CertCommandTest, CreatePrintsPathsThumbprintsAndTheTrustHint) {
  RunResult run = Scaleout(
      "cert create --cn worker1 --dns worker1 --dns worker1.example.com --ip 10.0.0.5"
      " --days 30 --out-cert " +
      Quote(File("w.crt")) + " --out-key " + Quote(File("w.key")));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto info = ReadCertificateThumbprints(File("w.crt"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_NE(run.output.find(info->sha256_thumbprint), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(info->sha1_thumbprint), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(File("w.key")), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("scaleout manage worker add --cert " + File("w.crt")),
            std::string::npos)
      << run.output;
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"worker1", "worker1.example.com"}));
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"10.0.0.5"}));
  struct stat key_info;
  ASSERT_EQ(::stat(File("w.key").c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);
  EXPECT_TRUE(CheckKeyMatchesCertificate(File("w.crt"), File("w.key")).ok());
}

TEST_F(CertCommandTest, CreateRefusesToOverwriteWithoutForce) {
  const std::string paths =
      " --out-cert " + Quote(File("m.crt")) + " --out-key " + Quote(File("m.key"));
  ASSERT_EQ(Scaleout("cert create --cn master" + paths).exit_code, 0);
  auto before = ReadCertificateThumbprints(File("m.crt"));
  RunResult again = Scaleout("cert create --cn master" + paths);
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("--force"), std::string::npos) << again.output;
  EXPECT_EQ(ReadCertificateThumbprints(File("m.crt"))->sha256_thumbprint,
            before->sha256_thumbprint);
  RunResult forced = Scaleout("cert create --cn master --force --key-type rsa" + paths);
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(ReadCertificateThumbprints(File("m.crt"))->sha256_thumbprint,
            before->sha256_thumbprint);
}

TEST_F(CertCommandTest, CreateUsageErrorsExitWith2AndWriteNothing) {
  const std::string paths =
      " --out-cert " + Quote(File("x.crt")) + " --out-key " + Quote(File("x.key"));
  for (const std::string& arguments :
       {std::string("cert create") + paths, "cert create --cn x --ip 999.1.1.1" + paths,
        "cert create --cn x --days 0" + paths, "cert create --cn x --key-type dsa" + paths,
        "cert create --cn x --bogus" + paths, "cert create --cn 'a b' --dns 'bad name'" + paths,
        std::string("cert frobnicate"), std::string("cert")}) {
    RunResult run = Scaleout(arguments);
    EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.output;
    EXPECT_FALSE(run.output.empty()) << arguments;
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(CertCommandTest, ThumbprintPrintsTextAndJson) {
  CertificateRequest request;
  request.common_name = "master";
  request.ip_addresses = {"127.0.0.1"};
  request.cert_file = File("m.crt");
  request.key_file = File("m.key");
  auto info = CreateSelfSignedCertificate(request);
  ASSERT_TRUE(info.ok());

  RunResult text = Scaleout("cert thumbprint " + Quote(File("m.crt")));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("SHA-256 thumbprint: " + info->sha256_thumbprint), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("SHA-1 thumbprint:   " + info->sha1_thumbprint), std::string::npos);

  RunResult json = Scaleout("cert thumbprint --json " + Quote(File("m.crt")));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"sha256\": \"" + info->sha256_thumbprint + "\""), std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find("\"common_name\": \"master\""), std::string::npos);
  EXPECT_NE(json.output.find("\"not_after\": \"" + info->not_after + "\""), std::string::npos);
}

TEST_F(CertCommandTest, ThumbprintOfBadFilesFails) {
  RunResult missing = Scaleout("cert thumbprint " + Quote(File("missing.crt")));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("missing.crt"), std::string::npos) << missing.output;
  RunResult none = Scaleout("cert thumbprint");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  RunResult two = Scaleout("cert thumbprint a b");
  EXPECT_EQ(two.exit_code, 2) << two.output;
}

TEST_F(CertCommandTest, HelpOnEveryCommand) {
  for (const char* arguments : {"cert --help", "cert create --help", "cert thumbprint --help"}) {
    RunResult run = Scaleout(arguments);
    EXPECT_EQ(run.exit_code, 0) << arguments << "\n" << run.output;
    EXPECT_NE(run.output.find("Usage: scaleout cert"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace scaleout::core::security

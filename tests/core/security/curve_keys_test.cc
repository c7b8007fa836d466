// CURVE key pairs made with OpenSSL X25519 must be the keys libzmq expects:
// checked against libzmq itself, and through `scaleout cert curve` run as a
// child process.
#include "core/security/curve_keys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <zmq.h>

namespace scaleout::core::security {
namespace {

namespace fs = std::filesystem;

std::string LibzmqPublicOf(const std::string& secret) {
  char out[41] = {};
  EXPECT_EQ(zmq_curve_public(out, secret.c_str()), 0);
  return out;
}

class CurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "scaleout-curve-XXXXXX").string();
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

TEST_F(CurveKeysTest, GeneratedPairsAreWhatLibzmqDerives) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto pair = GenerateCurveKeyPair();
    ASSERT_TRUE(pair.ok()) << pair.status().ToString();
    EXPECT_EQ(pair->public_key.size(), 40u);
    EXPECT_EQ(LibzmqPublicOf(pair->secret_key), pair->public_key);
    EXPECT_EQ(*CurvePublicKeyOf(pair->secret_key), pair->public_key);
    EXPECT_TRUE(seen.insert(pair->secret_key).second);
  }
}

TEST_F(CurveKeysTest, Z85MatchesLibzmqBothWays) {
  char pub[41] = {};
  char sec[41] = {};
  ASSERT_EQ(zmq_curve_keypair(pub, sec), 0);
  auto bytes = Z85DecodeKey(pub);
  ASSERT_TRUE(bytes.has_value());
  std::uint8_t expected[32];
  ASSERT_NE(zmq_z85_decode(expected, pub), nullptr);
  EXPECT_EQ(0, std::memcmp(bytes->data(), expected, 32));
  EXPECT_EQ(Z85EncodeKey(*bytes), std::string(pub));
  EXPECT_EQ(*CurvePublicKeyOf(sec), std::string(pub));
  EXPECT_FALSE(Z85DecodeKey("short").has_value());
  EXPECT_FALSE(Z85DecodeKey(std::string(40, '~')).has_value());  // not in the alphabet
}

TEST_F(CurveKeysTest, KeyFilesAreWrittenReadAndChecked) {
  CurveKeyRequest request{File("w.curve"), File("w.curve_secret"), "w", false};
  auto pair = CreateCurveKeyFiles(request);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  struct stat info {};
  ASSERT_EQ(::stat(request.secret_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadCurvePublicKey(request.public_file), pair->public_key);
  EXPECT_EQ(*ReadCurvePublicKey(request.secret_file), pair->public_key);
  EXPECT_EQ(*CheckCurveKeyFiles(request.public_file, request.secret_file), pair->public_key);
  EXPECT_EQ(CreateCurveKeyFiles(request).status().code(), sdk::StatusCode::kAlreadyExists);

  ::chmod(request.secret_file.c_str(), 0640);
  EXPECT_EQ(CheckCurveKeyFiles(request.public_file, request.secret_file).status().code(),
            sdk::StatusCode::kPermissionDenied);
  ::chmod(request.secret_file.c_str(), 0600);

  std::ofstream(File("bare.pub")) << pair->public_key << "\n";
  EXPECT_EQ(*ReadCurvePublicKey(File("bare.pub")), pair->public_key);
  auto other = GenerateCurveKeyPair();
  std::ofstream(File("other.pub")) << other->public_key << "\n";
  auto mismatch = CheckCurveKeyFiles(File("other.pub"), request.secret_file);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find(other->public_key), std::string::npos);
  std::ofstream(File("junk")) << "public-key = \"tooshort\"\n";
  EXPECT_EQ(ReadCurvePublicKey(File("junk")).status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadCurvePublicKey(File("missing")).status().code(), sdk::StatusCode::kNotFound);
}

// The secret key as written in a zcert-style secret file.
std::string SecretLine(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("secret-key = \"");
    if (at != std::string::npos) return line.substr(at + 14, 40);
  }
  return {};
}

std::string RunScaleout(const std::string& arguments, int* exit_code) {
  const std::string command = std::string(SCALEOUT_TEST_HOST_BINARY) + " " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

TEST_F(CurveKeysTest, CertCurveCommandCreatesAndPrintsKeys) {
  int code = -1;
  std::string out = RunScaleout("cert curve create --name worker-7 --out-dir " + dir_, &code);
  ASSERT_EQ(code, 0) << out;
  auto pub = ReadCurvePublicKey(File("worker-7.curve"));
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_NE(out.find("CURVE public key:   " + *pub), std::string::npos) << out;
  EXPECT_EQ(LibzmqPublicOf(SecretLine(File("worker-7.curve_secret"))), *pub);
  out = RunScaleout("cert curve public " + File("worker-7.curve_secret"), &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, *pub + "\n");
  out = RunScaleout("cert curve create --name worker-7 --out-dir " + dir_, &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("--force"), std::string::npos) << out;
  out = RunScaleout("cert curve create --json --out-public " + File("a.pub") + " --out-secret " +
                        File("a.secret"),
                    &code);
  ASSERT_EQ(code, 0) << out;
  auto a = ReadCurvePublicKey(File("a.secret"));
  ASSERT_TRUE(a.ok());
  EXPECT_NE(out.find("\"public_key\": \"" + *a + "\""), std::string::npos) << out;
  out = RunScaleout("cert curve public", &code);
  EXPECT_EQ(code, 2) << out;
  out = RunScaleout("cert curve public " + File("nothing"), &code);
  EXPECT_EQ(code, 1) << out;
}

}  // namespace
}  // namespace scaleout::core::security

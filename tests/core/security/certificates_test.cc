#include "core/security/certificates.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace scaleout::core::security {
namespace {

using sdk::Status;

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "scaleout-sec-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, ignored);
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

CertificateRequest Request(const TempDir& dir, const std::string& stem = "node") {
  CertificateRequest request;
  request.common_name = "worker1";
  request.dns_names = {"worker1", "worker1.example.com"};
  request.ip_addresses = {"127.0.0.1", "::1"};
  request.cert_file = dir.File(stem + ".crt");
  request.key_file = dir.File(stem + ".key");
  return request;
}

TEST(CertificatesTest, CreateThenReadGivesTheSameThumbprints) {
  TempDir dir;
  auto created = CreateSelfSignedCertificate(Request(dir));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->sha256_thumbprint.size(), 64u);
  EXPECT_EQ(created->sha1_thumbprint.size(), 40u);
  EXPECT_EQ(created->common_name, "worker1");

  auto read = ReadCertificateThumbprints(Request(dir).cert_file);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->sha256_thumbprint, created->sha256_thumbprint);
  EXPECT_EQ(read->sha1_thumbprint, created->sha1_thumbprint);
  EXPECT_EQ(read->common_name, "worker1");
  EXPECT_EQ(read->not_after, created->not_after);
  // Two certificates never share a thumbprint (new key, random serial).
  auto other = CreateSelfSignedCertificate(Request(dir, "other"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->sha256_thumbprint, created->sha256_thumbprint);
}

TEST(CertificatesTest, ThumbprintMatchesOpenSslDigestOfDer) {
  TempDir dir;
  auto created = CreateSelfSignedCertificate(Request(dir));
  ASSERT_TRUE(created.ok());
  // Recompute independently from the DER bytes.
  std::string pem = ReadAll(Request(dir).cert_file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  ASSERT_GT(length, 0);
  auto described = DescribeDerCertificate(
      std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(length)));
  unsigned char digest[32];
  unsigned int digest_length = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<std::size_t>(length), digest, &digest_length, EVP_sha256(),
                       nullptr),
            1);
  OPENSSL_free(der);
  X509_free(cert);
  ASSERT_TRUE(described.ok());
  char hex[65];
  for (unsigned i = 0; i < 32; ++i) std::snprintf(hex + std::size_t{2} * i, 3, "%02X", digest[i]);
  EXPECT_EQ(described->sha256_thumbprint, std::string(hex));
  EXPECT_EQ(created->sha256_thumbprint, std::string(hex));
}

TEST(CertificatesTest, DerFileIsReadToo) {
  TempDir dir;
  auto created = CreateSelfSignedCertificate(Request(dir));
  ASSERT_TRUE(created.ok());
  std::string pem = ReadAll(Request(dir).cert_file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  WriteAll(dir.File("node.cer"), std::string(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  X509_free(cert);
  auto read = ReadCertificateThumbprints(dir.File("node.cer"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->sha256_thumbprint, created->sha256_thumbprint);
}

TEST(CertificatesTest, KeyFileIsCreatedWithMode0600) {
  TempDir dir;
  // A permissive umask must not widen the key's mode.
  mode_t old_mask = ::umask(0);
  auto created = CreateSelfSignedCertificate(Request(dir));
  ::umask(old_mask);
  ASSERT_TRUE(created.ok());
  struct stat key_info;
  ASSERT_EQ(::stat(Request(dir).key_file.c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);
  struct stat cert_info;
  ASSERT_EQ(::stat(Request(dir).cert_file.c_str(), &cert_info), 0);
  EXPECT_EQ(cert_info.st_mode & 0777, 0644u);
  EXPECT_TRUE(CheckPrivateKeyPermissions(Request(dir).key_file).ok());
  // No temporary files left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST(CertificatesTest, OpenKeyPermissionsAreRefused) {
  TempDir dir;
  ASSERT_TRUE(CreateSelfSignedCertificate(Request(dir)).ok());
  ::chmod(Request(dir).key_file.c_str(), 0644);
  Status status = CheckPrivateKeyPermissions(Request(dir).key_file);
  EXPECT_EQ(status.code(), sdk::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("chmod 600"), std::string::npos) << status.message();
  EXPECT_EQ(CheckPrivateKeyPermissions(dir.File("missing.key")).code(), sdk::StatusCode::kNotFound);
}

TEST(CertificatesTest, SubjectAltNamesArePresent) {
  TempDir dir;
  auto created = CreateSelfSignedCertificate(Request(dir));
  ASSERT_TRUE(created.ok());
  auto read = ReadCertificateThumbprints(Request(dir).cert_file);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->dns_names, (std::vector<std::string>{"worker1", "worker1.example.com"}));
  EXPECT_EQ(read->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
}

TEST(CertificatesTest, ValidityFollowsDays) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  request.days = 30;
  auto created = CreateSelfSignedCertificate(request);
  ASSERT_TRUE(created.ok());
  auto remaining = created->not_after_time - std::chrono::system_clock::now();
  EXPECT_GT(remaining, std::chrono::hours(24 * 29));
  EXPECT_LE(remaining, std::chrono::hours(24 * 30) + std::chrono::minutes(1));
}

TEST(CertificatesTest, RsaKeysWork) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  request.key_type = KeyType::kRsa3072;
  auto created = CreateSelfSignedCertificate(request);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(CheckKeyMatchesCertificate(request.cert_file, request.key_file).ok());
  EXPECT_NE(ReadAll(request.key_file).find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(CertificatesTest, ParsesKeyTypes) {
  EXPECT_EQ(*ParseKeyType("EC"), KeyType::kEcP256);
  EXPECT_EQ(*ParseKeyType("rsa"), KeyType::kRsa3072);
  EXPECT_EQ(ParseKeyType("dsa").status().code(), sdk::StatusCode::kInvalidArgument);
}

TEST(CertificatesTest, RefusesToOverwriteWithoutPermission) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  auto first = CreateSelfSignedCertificate(request);
  ASSERT_TRUE(first.ok());
  std::string key_before = ReadAll(request.key_file);

  auto second = CreateSelfSignedCertificate(request);
  EXPECT_EQ(second.status().code(), sdk::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("--force"), std::string::npos);
  EXPECT_EQ(ReadAll(request.key_file), key_before);  // unchanged
  EXPECT_EQ(ReadCertificateThumbprints(request.cert_file)->sha256_thumbprint,
            first->sha256_thumbprint);

  request.overwrite = true;
  auto third = CreateSelfSignedCertificate(request);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->sha256_thumbprint, first->sha256_thumbprint);
  EXPECT_EQ(ReadCertificateThumbprints(request.cert_file)->sha256_thumbprint,
            third->sha256_thumbprint);
  struct stat key_info;
  ASSERT_EQ(::stat(request.key_file.c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);
}

TEST(CertificatesTest, OverwriteReplacesAnOpenModeKeyWithA0600One) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  WriteAll(request.key_file, "old");
  ::chmod(request.key_file.c_str(), 0644);
  request.overwrite = true;
  ASSERT_TRUE(CreateSelfSignedCertificate(request).ok());
  struct stat key_info;
  ASSERT_EQ(::stat(request.key_file.c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);
}

TEST(CertificatesTest, BadInputsAreRefusedAndWriteNothing) {
  TempDir dir;
  struct Case {
    const char* what;
    void (*change)(CertificateRequest&);
  };
  const Case cases[] = {
      {"empty cn", [](CertificateRequest& r) { r.common_name.clear(); }},
      {"long cn", [](CertificateRequest& r) { r.common_name = std::string(65, 'a'); }},
      {"control char cn", [](CertificateRequest& r) { r.common_name = "a\nb"; }},
      {"bad dns", [](CertificateRequest& r) { r.dns_names = {"bad name"}; }},
      {"dns injection", [](CertificateRequest& r) { r.dns_names = {"a,IP:1.2.3.4"}; }},
      {"empty dns label", [](CertificateRequest& r) { r.dns_names = {"a..b"}; }},
      {"bad ip", [](CertificateRequest& r) { r.ip_addresses = {"300.1.1.1"}; }},
      {"zero days", [](CertificateRequest& r) { r.days = 0; }},
      {"too many days", [](CertificateRequest& r) { r.days = 40000; }},
      {"same file", [](CertificateRequest& r) { r.key_file = r.cert_file; }},
      {"no key file", [](CertificateRequest& r) { r.key_file.clear(); }},
  };
  for (const Case& c : cases) {
    CertificateRequest request = Request(dir);
    c.change(request);
    auto result = CreateSelfSignedCertificate(request);
    EXPECT_EQ(result.status().code(), sdk::StatusCode::kInvalidArgument) << c.what;
    EXPECT_FALSE(result.status().message().empty()) << c.what;
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CertificatesTest, MissingDirectoryIsAClearError) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  request.cert_file = dir.File("no/such/dir/node.crt");
  auto result = CreateSelfSignedCertificate(request);
  EXPECT_EQ(result.status().code(), sdk::StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("no/such/dir"), std::string::npos)
      << result.status().message();
  EXPECT_TRUE(fs::is_empty(dir.path()));  // the key was not left behind either
}

TEST(CertificatesTest, UnwritableDirectoryIsAClearError) {
  TempDir dir;
  CertificateRequest request = Request(dir);
  if (::geteuid() == 0) {
    // root ignores directory modes; sysfs refuses new files even to root.
    if (!fs::is_directory("/sys/kernel")) GTEST_SKIP() << "no sysfs to test with as root";
    request.cert_file = "/sys/kernel/scaleout-test.crt";
    request.key_file = "/sys/kernel/scaleout-test.key";
  } else {
    fs::create_directory(dir.File("ro"));
    fs::permissions(dir.File("ro"), fs::perms::owner_read | fs::perms::owner_exec);
    request.cert_file = dir.File("ro/node.crt");
    request.key_file = dir.File("ro/node.key");
  }
  auto result = CreateSelfSignedCertificate(request);
  EXPECT_EQ(result.status().code(), sdk::StatusCode::kPermissionDenied)
      << result.status().ToString();
  EXPECT_NE(result.status().message().find("cannot write"), std::string::npos);
}

TEST(CertificatesTest, ReadingBadFilesIsAClearError) {
  TempDir dir;
  EXPECT_EQ(ReadCertificateThumbprints(dir.File("missing.crt")).status().code(),
            sdk::StatusCode::kNotFound);
  WriteAll(dir.File("text.crt"), "hello, I am not a certificate\n");
  auto text = ReadCertificateThumbprints(dir.File("text.crt"));
  EXPECT_EQ(text.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(text.status().message().find("not a certificate"), std::string::npos);

  ASSERT_TRUE(CreateSelfSignedCertificate(Request(dir)).ok());
  auto key_as_cert = ReadCertificateThumbprints(Request(dir).key_file);
  EXPECT_EQ(key_as_cert.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_NE(key_as_cert.status().message().find("PEM"), std::string::npos);
}

TEST(CertificatesTest, KeyCertificateMismatchIsDetected) {
  TempDir dir;
  ASSERT_TRUE(CreateSelfSignedCertificate(Request(dir, "a")).ok());
  ASSERT_TRUE(CreateSelfSignedCertificate(Request(dir, "b")).ok());
  EXPECT_TRUE(CheckKeyMatchesCertificate(dir.File("a.crt"), dir.File("a.key")).ok());
  Status mismatch = CheckKeyMatchesCertificate(dir.File("a.crt"), dir.File("b.key"));
  EXPECT_EQ(mismatch.code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_NE(mismatch.message().find("does not belong"), std::string::npos);
  EXPECT_EQ(CheckKeyMatchesCertificate(dir.File("a.crt"), dir.File("a.crt")).code(),
            sdk::StatusCode::kInvalidArgument);
}

TEST(CertificatesTest, PinsMatchSha256OrSha1InAnyFormat) {
  TempDir dir;
  auto info = CreateSelfSignedCertificate(Request(dir));
  ASSERT_TRUE(info.ok());
  std::string lower = info->sha256_thumbprint;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string with_colons;
  for (std::size_t i = 0; i < info->sha1_thumbprint.size(); i += 2) {
    if (i > 0) with_colons += ':';
    with_colons += info->sha1_thumbprint.substr(i, 2);
  }
  EXPECT_EQ(MatchPin(info->sha256_thumbprint, *info), PinMatch::kSha256);
  EXPECT_EQ(MatchPin(lower, *info), PinMatch::kSha256);
  EXPECT_EQ(MatchPin(with_colons, *info), PinMatch::kSha1);
  EXPECT_EQ(MatchPin(std::string(64, 'A'), *info), PinMatch::kNone);
  EXPECT_EQ(MatchPin("not hex", *info), PinMatch::kNone);
  EXPECT_EQ(MatchAnyPin({std::string(40, '0'), with_colons, info->sha256_thumbprint}, *info),
            PinMatch::kSha256);
  EXPECT_EQ(MatchAnyPin({}, *info), PinMatch::kNone);
  EXPECT_EQ(NormalizePin("12345").status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_EQ(*NormalizePin(lower), info->sha256_thumbprint);
}

}  // namespace
}  // namespace scaleout::core::security

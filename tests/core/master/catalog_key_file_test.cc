// The catalog key's file: made once with mode 0600, read back as the same
// key, and refused (saying what to do) when others can read it, when it is
// not a key file, or when it is missing from a catalog that needs it.
#include "core/master/catalog_key_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/support/test_util.h"

namespace scaleout::core::master {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

TEST(CatalogKeyFileTest, AMissingFileIsMadeOnceWithMode0600AndReadBackAsTheSameKey) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "catalog-encryption.key";
  auto made = LoadCatalogKey(file, true);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(made->created);
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_FALSE(fs::exists(file.string() + ".new"));
  auto again = LoadCatalogKey(file, true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->key.id(), made->key.id());
  auto sealed = made->key.Seal("AES_256", "v");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(again->key.Open(*sealed).value(), "v");
  // A read-only copy (0400) is fine too.
  ASSERT_EQ(::chmod(file.c_str(), 0400), 0);
  EXPECT_TRUE(LoadCatalogKey(file, false).ok());
}

TEST(CatalogKeyFileTest, AFileOthersCanReadIsRefusedWithTheCommandThatFixesIt) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "k";
  ASSERT_TRUE(LoadCatalogKey(file, true).ok());
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  auto loaded = LoadCatalogKey(file, true);
  EXPECT_EQ(loaded.status().code(), sdk::StatusCode::kPermissionDenied);
  EXPECT_THAT(loaded.status().message(), HasSubstr("chmod 600 " + file.string()));
}

TEST(CatalogKeyFileTest, AMissingFileIsNotMadeForACatalogThatHasSealedValues) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "k";
  auto loaded = LoadCatalogKey(file, false);
  EXPECT_EQ(loaded.status().code(), sdk::StatusCode::kFailedPrecondition);
  EXPECT_THAT(loaded.status().message(), HasSubstr("restore the file from your backup"));
  EXPECT_FALSE(fs::exists(file));
}

TEST(CatalogKeyFileTest, AFileThatIsNotAKeyIsRefused) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "k";
  std::ofstream(file) << "-----BEGIN PRIVATE KEY-----\n";
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  auto loaded = LoadCatalogKey(file, true);
  EXPECT_EQ(loaded.status().code(), sdk::StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr("not a scaleout catalog key file"));
  EXPECT_THAT(loaded.status().message(), HasSubstr(file.string()));
  // A folder in its place.
  const fs::path folder = dir / "d";
  fs::create_directory(folder);
  ASSERT_EQ(::chmod(folder.c_str(), 0700), 0);
  EXPECT_EQ(LoadCatalogKey(folder, true).status().code(), sdk::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace scaleout::core::master

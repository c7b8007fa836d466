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

TEST(CatalogKeyFileTest, ARotationSwapsTheFilesOnlyOnceTheCatalogTookTheNewKey) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "k";
  auto first = LoadCatalogKey(file, true);
  ASSERT_TRUE(first.ok());
  const std::string old_id = first->key.id();

  // The catalog refuses: nothing moves but the pending new key.
  auto failed = RotateCatalogKeyFile(file, old_id, [](const auto&, const auto&) {
    return sdk::Result<std::int64_t>(sdk::Status::Unavailable("the database went away"));
  });
  EXPECT_EQ(failed.status().code(), sdk::StatusCode::kUnavailable);
  EXPECT_EQ(LoadCatalogKey(file, false)->key.id(), old_id);
  ASSERT_TRUE(fs::exists(file.string() + ".next"));

  // Again: a fresh new key (the pending one never reached the catalog).
  std::string sealed_with;
  auto rotated = RotateCatalogKeyFile(
      file, old_id, [&](const catalog::CatalogKey& current, const catalog::CatalogKey& next) {
        EXPECT_EQ(current.id(), old_id);
        sealed_with = next.id();
        return sdk::Result<std::int64_t>(7);
      });
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->resealed, 7);
  EXPECT_EQ(rotated->old_id, old_id);
  EXPECT_EQ(rotated->new_id, sealed_with);
  EXPECT_NE(rotated->new_id, old_id);
  EXPECT_EQ(LoadCatalogKey(file, false)->key.id(), rotated->new_id);
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(rotated->retired, fs::path(file.string() + ".retired-" + old_id));
  EXPECT_EQ(LoadCatalogKey(rotated->retired, false)->key.id(), old_id);
  EXPECT_FALSE(fs::exists(file.string() + ".next"));
}

TEST(CatalogKeyFileTest,
     ARotationInterruptedAfterTheCatalogTookTheKeyIsFinishedWithoutSealingAgain) {
  scaleout::test::TempDir dir;
  const fs::path file = dir / "k";
  auto first = LoadCatalogKey(file, true);
  ASSERT_TRUE(first.ok());
  auto next = catalog::CatalogKey::Generate().value();
  ASSERT_TRUE(WriteCatalogKeyFile(file.string() + ".next", next).ok());
  EXPECT_FALSE(WriteCatalogKeyFile(file.string() + ".next", next).ok());  // never over a key
  // The catalog records the new key: the crash came before the renames.
  auto finished = RotateCatalogKeyFile(file, next.id(), [](const auto&, const auto&) {
    ADD_FAILURE() << "the values were sealed already";
    return sdk::Result<std::int64_t>(0);
  });
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(LoadCatalogKey(file, false)->key.id(), next.id());
  EXPECT_TRUE(fs::exists(file.string() + ".retired-" + first->key.id()));
  // A crash between the two renames: only the new key's file is left to move.
  auto after = catalog::CatalogKey::Generate().value();
  ASSERT_TRUE(WriteCatalogKeyFile(file.string() + ".next", after).ok());
  fs::rename(file, dir / "elsewhere");
  auto last = RotateCatalogKeyFile(
      file, after.id(), [](const auto&, const auto&) { return sdk::Result<std::int64_t>(0); });
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(LoadCatalogKey(file, false)->key.id(), after.id());
  // No key at all and nothing pending: restore it, says the refusal.
  fs::remove(file);
  auto none = RotateCatalogKeyFile(
      file, after.id(), [](const auto&, const auto&) { return sdk::Result<std::int64_t>(0); });
  EXPECT_EQ(none.status().code(), sdk::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace scaleout::core::master

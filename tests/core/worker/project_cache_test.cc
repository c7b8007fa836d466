// FindStaleProjectVersions on a real cache folder: which versions count as
// unused since a cutoff, by their marker's time (or their folder's without
// one), and what is never considered (other names, links).
#include "core/worker/project_cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/worker/fs_util.h"
#include "tests/support/test_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

constexpr std::int64_t kCutoff = 1'700'000'000'000;  // unix ms
constexpr std::int64_t kOld = kCutoff - 3'600'000;
constexpr std::int64_t kRecent = kCutoff + 3'600'000;

void SetMtime(const fs::path& path, std::int64_t unix_ms) {
  ASSERT_TRUE(SetModificationTime(path, unix_ms)) << path;
}

// A cached version with its marker, last used at `unix_ms`.
void Version(const fs::path& dir, std::int64_t unix_ms) {
  fs::create_directories(dir);
  std::ofstream(dir / std::string(kProjectCompleteMarker)).flush();
  SetMtime(dir / std::string(kProjectCompleteMarker), unix_ms);
}

std::vector<std::string> Names(const std::vector<CachedProjectVersion>& versions) {
  std::vector<std::string> names;
  names.reserve(versions.size());
  for (const auto& v : versions) {
    names.push_back(std::to_string(v.project_id) + "/" + std::to_string(v.project_version) + " " +
                    v.dir.filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ProjectCacheTest, FindsVersionsUnusedSinceTheCutoffAndNothingElse) {
  test::TempDir cache;
  Version(cache / "11/1", kOld);
  Version(cache / "11/2", kRecent);
  // A marker used recently decides, not the folder's own time.
  Version(cache / "11/5", kRecent);
  SetMtime(cache / "11/5", kOld);
  // No marker (a replacement interrupted): the folder's time decides.
  fs::create_directories(cache / "12/3");
  SetMtime(cache / "12/3", kOld);
  // Half a fetch, long ago, and one under way now.
  fs::create_directories(cache / "12/.tmp-A");
  SetMtime(cache / "12/.tmp-A", kOld);
  fs::create_directories(cache / "12/.tmp-B");
  SetMtime(cache / "12/.tmp-B", kRecent);
  // Never considered: other names, links, project 0's folder.
  Version(cache / "none", kOld);
  Version(cache / "abc/1", kOld);
  Version(cache / "11/notes", kOld);
  Version(cache / "elsewhere/7", kOld);
  fs::create_directory_symlink(cache / "elsewhere", cache / "13");
  fs::create_directory_symlink(cache / "11/1", cache / "11/4");

  EXPECT_THAT(Names(FindStaleProjectVersions(cache.path(), kCutoff)),
              ElementsAre("11/1 1", "12/-1 .tmp-A", "12/3 3"));
  EXPECT_TRUE(FindStaleProjectVersions(cache / "missing", kCutoff).empty());
}

TEST(ProjectCacheTest, MarkingAVersionUsedMovesItPastTheCutoff) {
  test::TempDir cache;
  Version(cache / "11/1", kOld);
  MarkProjectVersionUsed(cache / "11/1", kRecent);
  EXPECT_TRUE(FindStaleProjectVersions(cache.path(), kCutoff).empty());
  MarkProjectVersionUsed(cache / "11/9", kRecent);  // not cached: nothing to mark
  EXPECT_FALSE(fs::exists(cache / "11/9"));
}

}  // namespace
}  // namespace scaleout::core::worker

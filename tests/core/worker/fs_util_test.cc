// The worker's durable-file helpers: an exclusive write publishes a whole
// file only where none is, and a directory walk stops quietly at errors.
#include "core/worker/fs_util.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;

TEST(FsUtilTest, AnExclusiveWriteCreatesOnlyAFileThatIsNotThere) {
  test::TempDir dir;
  const fs::path file = dir / "agent-id";
  ASSERT_TRUE(WriteFileExclusively(file, "first\n").ok());
  const sdk::Status again = WriteFileExclusively(file, "second\n");
  EXPECT_EQ(again.code(), sdk::StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(ReadWholeFile(file).value(), "first\n");
  // No temporary file is left beside it.
  std::vector<std::string> names;
  ForEachEntry(dir.path(), [&](const fs::directory_entry& e) {
    names.push_back(e.path().filename().string());
  });
  EXPECT_EQ(names, std::vector<std::string>{"agent-id"});
  // A folder that does not exist is an error, not kAlreadyExists.
  EXPECT_EQ(WriteFileExclusively(dir / "missing" / "f", "x").code(), sdk::StatusCode::kUnavailable);
}

TEST(FsUtilTest, ForEachEntryOfAMissingFolderVisitsNothing) {
  test::TempDir dir;
  int visited = 0;
  ForEachEntry(dir / "missing", [&](const fs::directory_entry&) { ++visited; });
  EXPECT_EQ(visited, 0);
}

}  // namespace
}  // namespace scaleout::core::worker

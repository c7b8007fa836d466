// TaskFolderJanitor on a real folder: which task folders a sweep finds, that
// it moves them aside and deletes them with their contents, that it leaves
// everything that is not a task folder alone, and its per-sweep limit. Ages
// come from file times set against a ManualClock.
#include "core/worker/task_folders.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/common/ids.h"
#include "core/worker/fs_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr milliseconds kRetention{24LL * 3'600'000};  // one day

void SetFolderMtime(const fs::path& path, std::int64_t unix_ms) {
  ASSERT_TRUE(SetModificationTime(path, unix_ms)) << path;
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class TaskFoldersTest : public ::testing::Test {
 protected:
  TaskFoldersTest() {
    base_ = fs::temp_directory_path() / ("scaleout-task-folders-" + NewGuid());
    root_ = base_ / "Tasks";
    fs::create_directories(root_);
  }

 public:
  ~TaskFoldersTest() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

 protected:
  std::int64_t DaysAgo(double days) const {
    return clock_.NowUnixMillis() - static_cast<std::int64_t>(days * 86'400'000);
  }

  // A task folder with a task log, both last changed at `unix_ms`.
  std::string TaskFolder(std::int64_t unix_ms) {
    std::string id = NewGuid();
    fs::create_directories(root_ / id);
    std::ofstream(root_ / id / "task.log") << "started\nsucceeded\n";
    SetFolderMtime(root_ / id / "task.log", unix_ms);
    SetFolderMtime(root_ / id, unix_ms);
    return id;
  }

  fs::path base_;
  fs::path root_;
  ManualClock clock_;
};

TEST_F(TaskFoldersTest, FindsOnlyTaskFoldersUnchangedForTheRetention) {
  TaskFolderJanitor janitor(root_.string(), kRetention, clock_);
  const std::string old = TaskFolder(DaysAgo(2));
  (void)TaskFolder(DaysAgo(0.5));  // changed within the retention
  // The folder is old but its log was written recently (a long task's end).
  const std::string log_recent = TaskFolder(DaysAgo(2));
  SetFolderMtime(root_ / log_recent / "task.log", DaysAgo(0.1));
  SetFolderMtime(root_ / log_recent, DaysAgo(2));
  // Not task folders: a folder without a GUID name, a file with one, and a
  // link with one pointing at an old folder outside TasksRootFolder.
  fs::create_directories(root_ / "operator-notes");
  SetFolderMtime(root_ / "operator-notes", DaysAgo(30));
  const std::string file_id = NewGuid();
  std::ofstream(root_ / file_id) << "x";
  SetFolderMtime(root_ / file_id, DaysAgo(30));
  fs::create_directories(base_ / "elsewhere");
  SetFolderMtime(base_ / "elsewhere", DaysAgo(30));
  const std::string link_id = NewGuid();
  fs::create_directory_symlink(base_ / "elsewhere", root_ / link_id);
  SetFolderMtime(root_ / link_id, DaysAgo(30));

  EXPECT_THAT(janitor.FindExpired(), ElementsAre(old));

  clock_.Advance(milliseconds(86'400'000));  // a day later the half-day-old one is due too
  EXPECT_EQ(janitor.FindExpired().size(), 3u);
}

TEST_F(TaskFoldersTest, DetachedFoldersAreDeletedWithTheirContents) {
  TaskFolderJanitor janitor(root_.string(), kRetention, clock_);
  const std::string old = TaskFolder(DaysAgo(3));
  fs::create_directories(root_ / old / "out" / "deep");
  std::ofstream(root_ / old / "out" / "deep" / "data.csv") << "1,2\n";
  SetFolderMtime(root_ / old, DaysAgo(3));
  const std::string kept = TaskFolder(DaysAgo(0));

  ASSERT_TRUE(janitor.Detach(old));
  EXPECT_FALSE(fs::exists(root_ / old));  // a task started with this id now gets a fresh folder
  EXPECT_FALSE(janitor.Detach(old));      // gone already
  const RemovalReport report = janitor.RemoveDetached();
  EXPECT_EQ(report.removed, 1u);
  EXPECT_EQ(report.failed, 0u);
  EXPECT_THAT(Entries(root_), ElementsAre(kept));
  EXPECT_THAT(janitor.FindExpired(), IsEmpty());
}

TEST_F(TaskFoldersTest, LeftoversOfAnInterruptedSweepAreRemovedByTheNext) {
  TaskFolderJanitor janitor(root_.string(), kRetention, clock_);
  // A crash between the rename and the delete left this behind.
  fs::create_directories(root_ / ".removing-ABC" / "sub");
  std::ofstream(root_ / ".removing-ABC" / "sub" / "f") << "x";
  // Detaching a folder whose earlier copy is still being removed.
  const std::string id = TaskFolder(DaysAgo(2));
  fs::create_directories(root_ / (".removing-" + id));
  std::ofstream(root_ / (".removing-" + id) / "task.log") << "older copy\n";
  ASSERT_TRUE(janitor.Detach(id));
  EXPECT_FALSE(fs::exists(root_ / id));

  EXPECT_EQ(janitor.RemoveDetached().removed, 3u);
  EXPECT_THAT(Entries(root_), IsEmpty());
}

TEST_F(TaskFoldersTest, ASweepTakesAtMostItsLimitAndAMissingRootIsEmpty) {
  TaskFolderJanitor janitor(root_.string(), kRetention, clock_, /*max_per_sweep=*/3);
  for (int i = 0; i < 5; ++i) (void)TaskFolder(DaysAgo(2));
  EXPECT_EQ(janitor.FindExpired().size(), 3u);

  TaskFolderJanitor nowhere((base_ / "not-made-yet").string(), kRetention, clock_);
  EXPECT_THAT(nowhere.FindExpired(), IsEmpty());
  EXPECT_EQ(nowhere.RemoveDetached().removed, 0u);
}

TEST_F(TaskFoldersTest, SweepsAQuarterOfTheRetentionApartBetweenASecondAndAnHour) {
  EXPECT_EQ(TaskFolderJanitor(root_.string(), milliseconds(7LL * 86'400'000), clock_).interval(),
            milliseconds(3'600'000));
  EXPECT_EQ(TaskFolderJanitor(root_.string(), milliseconds(40 * 60'000), clock_).interval(),
            milliseconds(10 * 60'000));
  EXPECT_EQ(TaskFolderJanitor(root_.string(), milliseconds(2'000), clock_).interval(),
            milliseconds(1'000));
}

}  // namespace
}  // namespace scaleout::core::worker

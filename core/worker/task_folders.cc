#include "core/worker/task_folders.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

#include "core/common/ids.h"
#include "core/worker/fs_util.h"

namespace scaleout::core::worker {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDetachedPrefix = ".removing-";

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirHandle = std::unique_ptr<DIR, DirCloser>;

bool IsTaskFolderName(std::string_view name) { return NormalizeGuid(name).has_value(); }

// True when `name` (relative to the open folder `dir_fd`) is a real folder
// that, with its task.log, has not changed since `cutoff_ms`.
bool UnchangedSince(int dir_fd, const std::string& name, std::int64_t cutoff_ms) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
    return false;
  }
  if (MtimeMillis(st) > cutoff_ms) return false;
  const std::string log = name + "/task.log";
  if (::fstatat(dir_fd, log.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      MtimeMillis(st) > cutoff_ms) {
    return false;
  }
  return true;
}

}  // namespace

TaskFolderJanitor::TaskFolderJanitor(std::string tasks_root, Millis retention, const Clock& clock,
                                     std::size_t max_per_sweep)
    : root_(std::move(tasks_root)),
      retention_(retention),
      clock_(clock),
      max_per_sweep_(max_per_sweep) {}

std::vector<std::string> TaskFolderJanitor::FindExpired() const {
  std::vector<std::string> expired;
  DirHandle dir(::opendir(root_.c_str()));
  if (!dir) return expired;  // not made yet: nothing to sweep
  const int dir_fd = ::dirfd(dir.get());
  const std::int64_t cutoff_ms = clock_.NowUnixMillis() - retention_.count();
  while (expired.size() < max_per_sweep_) {
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) continue;
    std::string name = entry->d_name;
    if (!IsTaskFolderName(name) || !UnchangedSince(dir_fd, name, cutoff_ms)) continue;
    expired.push_back(std::move(name));
  }
  return expired;
}

bool TaskFolderJanitor::Detach(const std::string& task_id) const {
  return DetachFolder(fs::path(root_) / task_id);
}

RemovalReport TaskFolderJanitor::RemoveDetached() const { return RemoveDetachedIn(root_); }

Millis TaskFolderJanitor::interval() const { return SweepInterval(retention_); }

bool DetachFolder(const fs::path& folder) {
  const fs::path to =
      folder.parent_path() / (std::string(kDetachedPrefix) + folder.filename().string());
  if (std::rename(folder.c_str(), to.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  // An earlier copy of the same name is still being removed: a unique name.
  const fs::path unique = to.parent_path() / (to.filename().string() + "-" + NewGuid());
  return std::rename(folder.c_str(), unique.c_str()) == 0;
}

RemovalReport RemoveDetachedIn(const fs::path& dir) {
  RemovalReport report;
  std::vector<std::string> detached;
  ForEachEntry(dir, [&](const fs::directory_entry& entry) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(kDetachedPrefix)) detached.push_back(std::move(name));
  });
  for (const std::string& name : detached) {
    std::error_code ec;
    fs::remove_all(dir / name, ec);
    if (!ec) {
      ++report.removed;
      continue;
    }
    ++report.failed;
    if (report.first_error.empty())
      report.first_error = (dir / name).string() + ": " + ec.message();
  }
  return report;
}

Millis SweepInterval(Millis retention) {
  return std::clamp<Millis>(retention / 4, Millis(1'000), Millis(3'600'000));
}

}  // namespace scaleout::core::worker

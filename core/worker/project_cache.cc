#include "core/worker/project_cache.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <system_error>

#include "core/worker/fs_util.h"

namespace scaleout::core::worker {

namespace {

namespace fs = std::filesystem;

bool AllDigits(std::string_view name) {
  return !name.empty() && name.size() <= 18 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

bool IsRealFolder(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec) && !entry.is_symlink(ec);
}

}  // namespace

std::vector<CachedProjectVersion> FindStaleProjectVersions(const fs::path& cache,
                                                           std::int64_t cutoff_unix_ms) {
  std::vector<CachedProjectVersion> stale;
  ForEachEntry(cache, [&](const fs::directory_entry& project) {
    const std::string id = project.path().filename().string();
    if (!AllDigits(id) || !IsRealFolder(project)) return;
    ForEachEntry(project.path(), [&](const fs::directory_entry& entry) {
      const std::string name = entry.path().filename().string();
      if (!IsRealFolder(entry)) return;
      CachedProjectVersion version{std::stoll(id), -1, entry.path()};
      std::int64_t changed = -1;
      if (AllDigits(name)) {
        version.project_version = std::stoll(name);
        changed = MtimeMillis(entry.path() / kProjectCompleteMarker);
        if (changed < 0) changed = MtimeMillis(entry.path());
      } else if (name.starts_with(".tmp-")) {
        changed = MtimeMillis(entry.path());
      } else {
        return;
      }
      if (changed >= 0 && changed <= cutoff_unix_ms) stale.push_back(std::move(version));
    });
  });
  return stale;
}

void MarkProjectVersionUsed(const fs::path& version_dir, std::int64_t unix_ms) {
  (void)SetModificationTime(version_dir / kProjectCompleteMarker, unix_ms);
}

}  // namespace scaleout::core::worker

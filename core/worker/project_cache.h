// The worker's project cache (`<data dir>/Projects/<project id>/<version>/`)
// on disk: which cached versions have gone unused for the retention.
//
// A worker fetches each deployed project version once and keeps it; with
// frequent deployments the versions would pile up for ever. The agent
// removes a version nobody has used for `ProjectCacheRetention` (a scaleout
// key; SSIS documents no such cache): a removed version costs only a
// fetch when a task needs it again. Its `.complete` marker's time is when
// it was last used, give or take one sweep: the agent touches the markers of
// the versions its tasks used since the previous sweep.
//
// Thread-safety: free functions on the paths they are given.
#ifndef SCALEOUT_CORE_WORKER_PROJECT_CACHE_H_
#define SCALEOUT_CORE_WORKER_PROJECT_CACHE_H_

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace scaleout::core::worker {

// The file whose presence says a cached version is whole (written last).
inline constexpr std::string_view kProjectCompleteMarker = ".complete";

struct CachedProjectVersion {
  std::int64_t project_id = 0;
  std::int64_t project_version = -1;  // -1: the leftover of a fetch that never finished
  std::filesystem::path dir;
};

// Versions under `cache` whose marker (or, without one, whose folder) has not
// changed since `cutoff_unix_ms`, and unfinished fetches (`.tmp-*`) as old.
// Only `<digits>/<digits>` folders and `<digits>/.tmp-*` are considered.
std::vector<CachedProjectVersion> FindStaleProjectVersions(const std::filesystem::path& cache,
                                                           std::int64_t cutoff_unix_ms);

// Sets the marker's time to `unix_ms` (the clock's now: a use); a version
// without a marker is left alone.
void MarkProjectVersionUsed(const std::filesystem::path& version_dir, std::int64_t unix_ms);

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_PROJECT_CACHE_H_

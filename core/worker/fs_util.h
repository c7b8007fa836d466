// Small durable-file helpers for the worker's state (agent id, event spool,
// project cache). POSIX only.
//
// Thread-safety: each call works on the paths it is given; callers serialize
// access to the same file.
#ifndef SCALEOUT_CORE_WORKER_FS_UTIL_H_
#define SCALEOUT_CORE_WORKER_FS_UTIL_H_

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

// Writes `content` to `path` so that a crash leaves either the old file or
// the new one: write a temporary beside it, fsync, rename, fsync the folder.
sdk::Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                                unsigned mode = 0644);

// As WriteFileAtomically, but only when `path` does not exist yet:
// kAlreadyExists (and `path` untouched) when it does, also when another
// process creates it at the same moment.
sdk::Status WriteFileExclusively(const std::filesystem::path& path, std::string_view content,
                                 unsigned mode = 0644);

// fsyncs a folder so a create, rename or unlink in it survives a crash.
sdk::Status SyncDirectory(const std::filesystem::path& dir);

// Reads a whole file. kNotFound when it does not exist.
sdk::Result<std::string> ReadWholeFile(const std::filesystem::path& path);

// Calls `visit` for each entry of `dir`, stopping at the first error (a
// missing folder has no entries). Never throws: a range-for over a
// directory_iterator throws from its increment, which on a background
// thread would end the process.
void ForEachEntry(const std::filesystem::path& dir,
                  const std::function<void(const std::filesystem::directory_entry&)>& visit);

// The modification time in `st`, in unix ms.
std::int64_t MtimeMillis(const struct stat& st);
// The modification time of `path` itself (a link, not its target) in unix
// ms; -1 when it cannot be read.
std::int64_t MtimeMillis(const std::filesystem::path& path);
// Sets the access and modification times of `path` itself (a link, not its
// target) to `unix_ms`; false when it cannot.
bool SetModificationTime(const std::filesystem::path& path, std::int64_t unix_ms);

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_FS_UTIL_H_

// Options: the settings of the storage/sqlite plugin, parsed and checked.
//
// Every key of the plugin's config section is validated here, before any
// file is touched, so a typo or a bad value fails at start-up naming the key.
//
// Thread-safety: a value type; a const Options may be read from any thread.
#ifndef SCALEOUT_PLUGINS_STORAGE_SQLITE_OPTIONS_H_
#define SCALEOUT_PLUGINS_STORAGE_SQLITE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "scaleout/sdk/config.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::sqlite {

// PRAGMA synchronous values we allow. EXTRA is left out: FULL already makes
// every acknowledged commit durable in WAL mode.
enum class Synchronous : std::uint8_t { kOff, kNormal, kFull };

// PRAGMA journal_mode values we allow. MEMORY and OFF are refused: a crash in
// the middle of a transaction would corrupt the catalog.
enum class JournalMode : std::uint8_t { kWal, kDelete, kTruncate, kPersist };

std::string_view SynchronousName(Synchronous value) noexcept;  // "FULL"
std::string_view JournalModeName(JournalMode value) noexcept;  // "WAL"

// The page cache per connection, in MiB. SQLite's own default (2 MiB) is
// smaller than the catalog's hot indexes once it holds a few hundred
// thousand executions, and every page it misses is a read() on the
// writer's hot path. Larger is not better either: when a B-tree page
// splits, SQLite numbers a page past the end of the file for a moment, and
// the commit that follows walks the whole cache to drop pages past the end;
// at 64 MiB that walk took a tenth of the catalog writer's time in a busy
// cluster. Memory is used only as pages are read.
inline constexpr int kDefaultCacheSizeMib = 16;

struct Options {
  std::string path;  // the database file; never empty after ParseOptions
  Synchronous synchronous = Synchronous::kFull;
  JournalMode journal_mode = JournalMode::kWal;
  int busy_timeout_ms = 5000;
  int statement_cache_size = 256;  // per connection; at least 1
  // SQLite's page cache per connection, in MiB (PRAGMA cache_size).
  int cache_size_mib = kDefaultCacheSizeMib;
  bool create = true;      // create a missing file (ignored when read_only)
  bool read_only = false;  // open with SQLITE_OPEN_READONLY
};

// Reads and checks every key of `config`. Errors are kInvalidArgument and
// name the key, the bad value and the accepted values.
sdk::Result<Options> ParseOptions(const sdk::ConfigView& config);

}  // namespace scaleout::plugins::sqlite

#endif  // SCALEOUT_PLUGINS_STORAGE_SQLITE_OPTIONS_H_

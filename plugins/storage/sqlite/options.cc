#include "plugins/storage/sqlite/options.h"

#include <array>
#include <utility>

namespace scaleout::plugins::sqlite {
namespace {

using sdk::Result;
using sdk::Status;

constexpr std::array<std::pair<std::string_view, Synchronous>, 3> kSynchronousValues = {{
    {"FULL", Synchronous::kFull},
    {"NORMAL", Synchronous::kNormal},
    {"OFF", Synchronous::kOff},
}};

constexpr std::array<std::pair<std::string_view, JournalMode>, 4> kJournalModeValues = {{
    {"WAL", JournalMode::kWal},
    {"DELETE", JournalMode::kDelete},
    {"TRUNCATE", JournalMode::kTruncate},
    {"PERSIST", JournalMode::kPersist},
}};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Key(const sdk::ConfigView& config, std::string_view key) {
  std::string out = "'";
  out += config.section();
  if (!config.section().empty()) out += ".";
  out += key;
  out += "'";
  return out;
}

// Looks `key` up case-insensitively among `values`; `fallback` when absent.
template <typename Enum, std::size_t N>
Result<Enum> ParseEnum(const sdk::ConfigView& config, std::string_view key,
                       const std::array<std::pair<std::string_view, Enum>, N>& values,
                       Enum fallback, std::string_view why_not_others) {
  if (!config.Has(key)) return fallback;
  std::string raw = config.GetString(key);
  std::string wanted = Upper(raw);
  std::string accepted;
  for (const auto& [name, value] : values) {
    if (name == wanted) return value;
    if (!accepted.empty()) accepted += ", ";
    accepted += name;
  }
  return Status::InvalidArgument(Key(config, key) + " must be one of " + accepted + ", got '" +
                                 raw + "'" + std::string(why_not_others));
}

}  // namespace

std::string_view SynchronousName(Synchronous value) noexcept {
  for (const auto& [name, v] : kSynchronousValues) {
    if (v == value) return name;
  }
  return "?";
}

std::string_view JournalModeName(JournalMode value) noexcept {
  for (const auto& [name, v] : kJournalModeValues) {
    if (v == value) return name;
  }
  return "?";
}

Result<Options> ParseOptions(const sdk::ConfigView& config) {
  SCALEOUT_RETURN_IF_ERROR(
      config.CheckKnownKeys({"path", "synchronous", "journal_mode", "busy_timeout_ms",
                             "statement_cache_size", "cache_size_mib", "create", "read_only"}));
  Options options;
  options.path = config.GetString("path");
  if (options.path.empty()) {
    return Status::InvalidArgument(Key(config, "path") +
                                   " is required: set it to the catalog database file, e.g. "
                                   "/var/lib/scaleout/catalog.db");
  }
  // Each connection to ":memory:" (or an empty name) would be its own private
  // database, so the catalog would silently lose everything between connections.
  if (options.path == ":memory:" || options.path.starts_with("file:")) {
    return Status::InvalidArgument(Key(config, "path") + " must be a file path, got '" +
                                   options.path +
                                   "'; in-memory databases and URI names are not supported");
  }
  SCALEOUT_ASSIGN_OR_RETURN(
      options.synchronous,
      ParseEnum(config, "synchronous", kSynchronousValues, Synchronous::kFull, ""));
  SCALEOUT_ASSIGN_OR_RETURN(
      options.journal_mode,
      ParseEnum(config, "journal_mode", kJournalModeValues, JournalMode::kWal,
                " (MEMORY and OFF are refused: a crash could corrupt the catalog)"));
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t busy,
                            config.GetInt("busy_timeout_ms", 5000, 0, 3'600'000));
  options.busy_timeout_ms = static_cast<int>(busy);
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t cache,
                            config.GetInt("statement_cache_size", 256, 1, 100'000));
  options.statement_cache_size = static_cast<int>(cache);
  SCALEOUT_ASSIGN_OR_RETURN(std::int64_t cache_mib,
                            config.GetInt("cache_size_mib", kDefaultCacheSizeMib, 1, 65'536));
  options.cache_size_mib = static_cast<int>(cache_mib);
  SCALEOUT_ASSIGN_OR_RETURN(options.create, config.GetBool("create", true));
  SCALEOUT_ASSIGN_OR_RETURN(options.read_only, config.GetBool("read_only", false));
  return options;
}

}  // namespace scaleout::plugins::sqlite

// Config parsing of storage/sqlite: defaults, every key, and every refusal
// naming the key. Bad config must change nothing on disk.
#include "plugins/storage/sqlite/options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace scaleout::plugins::sqlite {
namespace {

using sdk::StatusCode;
using testing::MakeStorage;
using testing::TempDir;

sdk::Result<Options> Parse(const sdk::ConfigView::Map& values) {
  sdk::ConfigView view(values, "storage.sqlite");
  return ParseOptions(view);
}

// Expects `values` to be refused with kInvalidArgument whose message
// contains every string in `needles`.
void ExpectRefused(const sdk::ConfigView::Map& values, std::initializer_list<std::string> needles) {
  auto parsed = Parse(values);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& needle : needles) {
    EXPECT_NE(parsed.status().message().find(needle), std::string::npos)
        << "'" << needle << "' not in: " << parsed.status().message();
  }
}

TEST(SqliteOptionsTest, OnlyPathGivesTheDocumentedDefaults) {
  auto parsed = Parse({{"path", "/data/catalog.db"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->path, "/data/catalog.db");
  EXPECT_EQ(parsed->synchronous, Synchronous::kFull);
  EXPECT_EQ(parsed->journal_mode, JournalMode::kWal);
  EXPECT_EQ(parsed->busy_timeout_ms, 5000);
  EXPECT_EQ(parsed->statement_cache_size, 256);
  EXPECT_EQ(parsed->cache_size_mib, 16);  // docs/storage.md says so
  EXPECT_TRUE(parsed->create);
  EXPECT_FALSE(parsed->read_only);
}

TEST(SqliteOptionsTest, EveryKeyIsReadAndEnumValuesIgnoreCase) {
  auto parsed = Parse({{"path", "c.db"},
                       {"synchronous", "normal"},
                       {"journal_mode", "Delete"},
                       {"busy_timeout_ms", "250"},
                       {"statement_cache_size", "16"},
                       {"cache_size_mib", "8"},
                       {"create", "false"},
                       {"read_only", "yes"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->synchronous, Synchronous::kNormal);
  EXPECT_EQ(parsed->journal_mode, JournalMode::kDelete);
  EXPECT_EQ(parsed->busy_timeout_ms, 250);
  EXPECT_EQ(parsed->statement_cache_size, 16);
  EXPECT_EQ(parsed->cache_size_mib, 8);
  EXPECT_FALSE(parsed->create);
  EXPECT_TRUE(parsed->read_only);
  EXPECT_EQ(SynchronousName(Synchronous::kOff), "OFF");
  EXPECT_EQ(JournalModeName(JournalMode::kTruncate), "TRUNCATE");
}

TEST(SqliteOptionsTest, UnknownKeyIsRefusedNamingIt) {
  ExpectRefused({{"path", "c.db"}, {"jounral_mode", "WAL"}},
                {"storage.sqlite.jounral_mode", "journal_mode"});
}

TEST(SqliteOptionsTest, MissingOrEmptyPathIsRefused) {
  ExpectRefused({}, {"storage.sqlite.path", "required"});
  ExpectRefused({{"path", ""}}, {"storage.sqlite.path", "required"});
}

TEST(SqliteOptionsTest, InMemoryAndUriPathsAreRefused) {
  ExpectRefused({{"path", ":memory:"}}, {"storage.sqlite.path", "in-memory"});
  ExpectRefused({{"path", "file:catalog.db?mode=ro"}}, {"storage.sqlite.path", "URI"});
}

TEST(SqliteOptionsTest, BadEnumValuesAreRefusedListingTheChoices) {
  ExpectRefused({{"path", "c.db"}, {"synchronous", "EXTRA-SAFE"}},
                {"storage.sqlite.synchronous", "FULL, NORMAL, OFF", "EXTRA-SAFE"});
  ExpectRefused({{"path", "c.db"}, {"journal_mode", "MEMORY"}},
                {"storage.sqlite.journal_mode", "WAL", "corrupt"});
  ExpectRefused({{"path", "c.db"}, {"journal_mode", "off"}}, {"storage.sqlite.journal_mode"});
}

TEST(SqliteOptionsTest, BadNumbersAndBooleansAreRefusedNamingTheKey) {
  ExpectRefused({{"path", "c.db"}, {"busy_timeout_ms", "-1"}}, {"storage.sqlite.busy_timeout_ms"});
  ExpectRefused({{"path", "c.db"}, {"busy_timeout_ms", "5s"}},
                {"storage.sqlite.busy_timeout_ms", "integer"});
  ExpectRefused({{"path", "c.db"}, {"statement_cache_size", "0"}},
                {"storage.sqlite.statement_cache_size"});
  ExpectRefused({{"path", "c.db"}, {"cache_size_mib", "0"}}, {"storage.sqlite.cache_size_mib"});
  ExpectRefused({{"path", "c.db"}, {"cache_size_mib", "65537"}}, {"storage.sqlite.cache_size_mib"});
  ExpectRefused({{"path", "c.db"}, {"create", "maybe"}}, {"storage.sqlite.create"});
  ExpectRefused({{"path", "c.db"}, {"read_only", "2"}}, {"storage.sqlite.read_only"});
}

TEST(SqliteOptionsTest, BadConfigFailsCreateAndTouchesNoFile) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  auto made = MakeStorage({{"path", path}, {"synchronous", "sometimes"}});
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace scaleout::plugins::sqlite

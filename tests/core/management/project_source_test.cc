#include "core/management/project_source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tests/support/test_util.h"

namespace scaleout::core::management {
namespace {

using nlohmann::json;

void Put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void Put32(std::string& out, std::uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}

std::string Deflate(const std::string& data) {
  z_stream s{};
  deflateInit2(&s, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// A minimal zip writer (stored or deflated entries), as zip tools produce.
std::string Zip(const std::vector<std::pair<std::string, std::string>>& entries, bool deflate) {
  std::string body, directory;
  for (const auto& [name, content] : entries) {
    const std::string data = deflate ? Deflate(content) : content;
    const auto crc = static_cast<std::uint32_t>(crc32(
        0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())));
    const auto offset = static_cast<std::uint32_t>(body.size());
    Put32(body, 0x04034b50);
    Put16(body, 20);
    Put16(body, 0);
    Put16(body, deflate ? 8 : 0);
    Put32(body, 0);
    Put32(body, crc);
    Put32(body, static_cast<std::uint32_t>(data.size()));
    Put32(body, static_cast<std::uint32_t>(content.size()));
    Put16(body, static_cast<std::uint32_t>(name.size()));
    Put16(body, 0);
    body += name + data;
    Put32(directory, 0x02014b50);
    Put16(directory, 20);
    Put16(directory, 20);
    Put16(directory, 0);
    Put16(directory, deflate ? 8 : 0);
    Put32(directory, 0);
    Put32(directory, crc);
    Put32(directory, static_cast<std::uint32_t>(data.size()));
    Put32(directory, static_cast<std::uint32_t>(content.size()));
    Put16(directory, static_cast<std::uint32_t>(name.size()));
    Put16(directory, 0);
    Put16(directory, 0);
    Put16(directory, 0);
    Put16(directory, 0);
    Put32(directory, 0);
    Put32(directory, offset);
    directory += name;
  }
  std::string out = body + directory;
  Put32(out, 0x06054b50);
  Put16(out, 0);
  Put16(out, 0);
  Put16(out, static_cast<std::uint32_t>(entries.size()));
  Put16(out, static_cast<std::uint32_t>(entries.size()));
  Put32(out, static_cast<std::uint32_t>(directory.size()));
  Put32(out, static_cast<std::uint32_t>(body.size()));
  Put16(out, 0);
  return out;
}

TEST(ProjectSourceTest, ReadsADirectoryWithItsManifest) {
  test::TempDir dir;
  test::WriteFile(dir / "load.sh", "#!/bin/sh\necho load\n");
  test::WriteFile(dir / "sql" / "step.sql", "select 1;\n");
  test::WriteFile(dir / "project.json",
                  R"({"description": "nightly", "entry_points": ["load.sh"],
                      "parameters": [{"name": "Server", "default": "db1"},
                                     {"name": "Rows", "data_type": "Int32", "required": true,
                                      "package": "load.sh"}]})");
  auto files = ReadProjectFiles(dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u);
  auto args = BuildDeployArguments(*files, "F", "P");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ((*args)["description"], "nightly");
  ASSERT_EQ((*args)["packages"].size(), 2u);  // the manifest is not a package
  EXPECT_EQ((*args)["packages"][0]["name"], "load.sh");
  EXPECT_EQ((*args)["packages"][0]["entry_point"], true);
  EXPECT_EQ((*args)["packages"][1]["name"], "sql/step.sql");
  EXPECT_EQ((*args)["packages"][1]["entry_point"], false);
  EXPECT_EQ((*args)["packages"][1]["content_base64"], EncodeBase64("select 1;\n"));
  ASSERT_EQ((*args)["parameters"].size(), 2u);
  EXPECT_EQ((*args)["parameters"][0]["object_type"], 20);
  EXPECT_EQ((*args)["parameters"][0]["default_value"], "db1");
  EXPECT_EQ((*args)["parameters"][1]["object_type"], 30);
  EXPECT_EQ((*args)["parameters"][1]["object_name"], "load.sh");
}

TEST(ProjectSourceTest, ReadsStoredAndDeflatedZipArchives) {
  for (bool deflate : {false, true}) {
    const std::string zip = Zip(
        {{"MyProject/", ""}, {"MyProject/a.sh", std::string(5000, 'a')}, {"MyProject/b.sh", "b"}},
        deflate);
    auto files = ReadZipArchive(zip);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ASSERT_EQ(files->size(), 2u);
    EXPECT_EQ((*files)[0].name, "a.sh");  // the one top folder is the project root
    EXPECT_EQ((*files)[0].content, std::string(5000, 'a'));
    EXPECT_EQ((*files)[1].content, "b");
  }
}

TEST(ProjectSourceTest, RefusesBadInputWithAClearError) {
  EXPECT_EQ(ReadZipArchive("not a zip at all, clearly").status().code(),
            sdk::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadZipArchive(Zip({{"../evil.sh", "x"}}, false)).status().code(),
            sdk::StatusCode::kInvalidArgument);
  std::string truncated = Zip({{"a.sh", std::string(100, 'a')}}, true);
  truncated[40] ^= 0x55;  // corrupt the deflated data
  EXPECT_FALSE(ReadZipArchive(truncated).ok());
  EXPECT_EQ(ReadProjectFiles("/nonexistent/project").status().code(), sdk::StatusCode::kNotFound);

  std::vector<ProjectFile> files = {{"load.sh", "x"}, {"project.json", R"({"entrypoints": []})"}};
  auto unknown_key = BuildDeployArguments(files, "F", "P");
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_NE(unknown_key.status().message().find("entrypoints"), std::string::npos);
  files[1].content = R"({"entry_points": ["missing.sh"]})";
  EXPECT_NE(BuildDeployArguments(files, "F", "P").status().message().find("missing.sh"),
            std::string::npos);
  files[1].content = R"({"parameters": [{"name": "X", "required": "maybe"}]})";
  EXPECT_EQ(BuildDeployArguments(files, "F", "P").status().code(),
            sdk::StatusCode::kInvalidArgument);
  EXPECT_FALSE(BuildDeployArguments({{"project.json", "{}"}}, "F", "P").ok());  // no packages
}

}  // namespace
}  // namespace scaleout::core::management

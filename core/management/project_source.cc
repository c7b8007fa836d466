#include "core/management/project_source.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace scaleout::core::management {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdk::Status;

constexpr std::size_t kMaxFileBytes = 64u << 20;
constexpr std::size_t kMaxFiles = 1000;

std::uint32_t U16(std::string_view b, std::size_t at) {
  return static_cast<std::uint8_t>(b[at]) | (static_cast<std::uint8_t>(b[at + 1]) << 8);
}
std::uint32_t U32(std::string_view b, std::size_t at) {
  return U16(b, at) | (U16(b, at + 2) << 16);
}

Status CheckEntryName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) {
    return Status::InvalidArgument("unsafe file name '" + name + "' in the project");
  }
  std::istringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part == ".." || part == ".") {
      return Status::InvalidArgument("unsafe file name '" + name + "' in the project");
    }
  }
  return Status::Ok();
}

sdk::Result<std::string> Inflate(std::string_view data, std::size_t expected,
                                 const std::string& name) {
  if (expected > kMaxFileBytes) {
    return Status::ResourceExhausted("'" + name + "' is larger than 64 MiB");
  }
  std::string out(expected, '\0');
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return Status::Internal("zlib init failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&stream, Z_FINISH);
  const std::size_t produced = stream.total_out;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END || produced != expected) {
    return Status::InvalidArgument("'" + name + "' in the archive is corrupt");
  }
  return out;
}

// Strips one top folder shared by every entry ("MyProject/load.sh" → "load.sh").
void StripCommonFolder(std::vector<ProjectFile>* files) {
  if (files->empty()) return;
  const std::string& first = files->front().name;
  const std::size_t slash = first.find('/');
  if (slash == std::string::npos) return;
  const std::string prefix = first.substr(0, slash + 1);
  for (const ProjectFile& f : *files) {
    if (!f.name.starts_with(prefix)) return;
  }
  for (ProjectFile& f : *files) f.name = f.name.substr(prefix.size());
}

sdk::Result<std::vector<ProjectFile>> ReadDirectory(const fs::path& root) {
  std::vector<ProjectFile> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = fs::relative(it->path(), root).generic_string();
    if (name.starts_with(".")) continue;  // .git, editor files
    if (files.size() >= kMaxFiles) {
      return Status::ResourceExhausted("the project has more than 1000 files");
    }
    if (it->file_size() > kMaxFileBytes) {
      return Status::ResourceExhausted("'" + name + "' is larger than 64 MiB");
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in && !in.eof()) return Status::PermissionDenied("cannot read " + it->path().string());
    files.push_back({name, content.str()});
  }
  if (ec) return Status::Unavailable("cannot list " + root.string() + ": " + ec.message());
  return files;
}

}  // namespace

sdk::Result<std::vector<ProjectFile>> ReadZipArchive(std::string_view b) {
  if (b.size() < 22) return Status::InvalidArgument("not a zip archive (too short)");
  std::size_t eocd = std::string_view::npos;
  const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (std::size_t i = b.size() - 22 + 1; i-- > lowest;) {
    if (U32(b, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string_view::npos) {
    return Status::InvalidArgument("not a zip archive (no end of central directory)");
  }
  const std::uint32_t count = U16(b, eocd + 10);
  std::size_t at = U32(b, eocd + 16);
  if (count > kMaxFiles) return Status::ResourceExhausted("the archive has more than 1000 files");
  std::vector<ProjectFile> files;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (at + 46 > b.size() || U32(b, at) != 0x02014b50) {
      return Status::InvalidArgument("the zip central directory is corrupt");
    }
    const std::uint32_t method = U16(b, at + 10);
    const std::uint32_t flags = U16(b, at + 8);
    const std::uint32_t compressed = U32(b, at + 20);
    const std::uint32_t size = U32(b, at + 24);
    const std::uint32_t name_len = U16(b, at + 28);
    const std::size_t next = at + 46 + name_len + U16(b, at + 30) + U16(b, at + 32);
    const std::uint32_t local = U32(b, at + 42);
    if (next > b.size()) return Status::InvalidArgument("the zip central directory is corrupt");
    std::string name(b.substr(at + 46, name_len));
    at = next;
    if (name.ends_with('/')) continue;  // a directory entry
    if ((flags & 1) != 0) return Status::InvalidArgument("'" + name + "' is encrypted");
    if (compressed == 0xFFFFFFFF || size == 0xFFFFFFFF) {
      return Status::InvalidArgument("zip64 archives are not supported");
    }
    SCALEOUT_RETURN_IF_ERROR(CheckEntryName(name));
    if (static_cast<std::size_t>(local) + 30 > b.size() || U32(b, local) != 0x04034b50) {
      return Status::InvalidArgument("the zip entry '" + name + "' is corrupt");
    }
    const std::size_t data = local + 30 + U16(b, local + 26) + U16(b, local + 28);
    if (data + compressed > b.size()) {
      return Status::InvalidArgument("the zip entry '" + name + "' is truncated");
    }
    const std::string_view raw = b.substr(data, compressed);
    if (method == 0) {
      files.push_back({name, std::string(raw)});
    } else if (method == 8) {
      SCALEOUT_ASSIGN_OR_RETURN(std::string content, Inflate(raw, size, name));
      files.push_back({name, std::move(content)});
    } else {
      return Status::InvalidArgument("'" + name + "' uses zip method " + std::to_string(method) +
                                     "; only stored and deflated entries are supported");
    }
  }
  StripCommonFolder(&files);
  std::sort(files.begin(), files.end(),
            [](const ProjectFile& a, const ProjectFile& c) { return a.name < c.name; });
  return files;
}

sdk::Result<std::vector<ProjectFile>> ReadProjectFiles(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path.string() + " does not exist");
  if (fs::is_directory(path, ec)) {
    SCALEOUT_ASSIGN_OR_RETURN(auto files, ReadDirectory(path));
    std::sort(files.begin(), files.end(),
              [](const ProjectFile& a, const ProjectFile& c) { return a.name < c.name; });
    return files;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::PermissionDenied("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  auto files = ReadZipArchive(content.str());
  if (!files.ok()) {
    return files.status().WithContext(path.string() +
                                      " (give a project directory or an .ispac/.zip archive)");
  }
  return files;
}

sdk::Result<std::string> DecodeBase64Argument(std::string_view what, std::string_view text) {
  std::optional<std::string> bytes = DecodeBase64(text);
  if (!bytes) {
    return sdk::Status::InvalidArgument("'" + std::string(what) + "' is not valid base64");
  }
  return std::move(*bytes);
}

sdk::Result<std::vector<ProjectFile>> ProjectFilesFromExport(const json& exported) {
  try {
    std::vector<ProjectFile> files;
    json manifest = json::object();
    if (!exported.value("description", std::string()).empty()) {
      manifest["description"] = exported["description"];
    }
    json entry_points = json::array();
    for (const json& p : exported.at("packages")) {
      const std::string name = p.at("name").get<std::string>();
      SCALEOUT_ASSIGN_OR_RETURN(
          std::string content,
          DecodeBase64Argument(name, p.at("content_base64").get<std::string>()));
      files.push_back({name, std::move(content)});
      if (p.value("entry_point", false)) entry_points.push_back(name);
    }
    manifest["entry_points"] = std::move(entry_points);
    json parameters = json::array();
    for (const json& p : exported.at("parameters")) {
      json out{{"name", p.at("name")}, {"data_type", p.at("data_type")}};
      if (p.contains("default_value") && !p["default_value"].is_null()) {
        out["default"] = p["default_value"];
      }
      out["required"] = p.value("required", false);
      out["sensitive"] = p.value("sensitive", false);
      if (p.value("object_type", 20) == 30) out["package"] = p.at("object_name");
      parameters.push_back(std::move(out));
    }
    manifest["parameters"] = std::move(parameters);
    files.push_back({std::string(kProjectManifest), manifest.dump(2) + "\n"});
    return files;
  } catch (const json::exception& e) {
    return sdk::Status::InvalidArgument(std::string("get_project answered in another shape: ") +
                                        e.what());
  }
}

namespace {
sdk::Result<json> BuildDeployArgumentsOrThrow(const std::vector<ProjectFile>& files,
                                              const std::string& folder_name,
                                              const std::string& project_name);
}  // namespace

sdk::Result<json> BuildDeployArguments(const std::vector<ProjectFile>& files,
                                       const std::string& folder_name,
                                       const std::string& project_name) {
  try {
    return BuildDeployArgumentsOrThrow(files, folder_name, project_name);
  } catch (const json::exception& e) {
    // A value of the wrong type in project.json ("required": "maybe").
    return Status::InvalidArgument(std::string("project.json: a value has the wrong type (") +
                                   e.what() + ")");
  }
}

namespace {

sdk::Result<json> BuildDeployArgumentsOrThrow(const std::vector<ProjectFile>& files,
                                              const std::string& folder_name,
                                              const std::string& project_name) {
  json manifest = json::object();
  std::vector<const ProjectFile*> packages;
  for (const ProjectFile& f : files) {
    if (f.name == kProjectManifest) {
      manifest = json::parse(f.content, nullptr, false);
      if (manifest.is_discarded() || !manifest.is_object()) {
        return Status::InvalidArgument("project.json is not a JSON object");
      }
    } else {
      packages.push_back(&f);
    }
  }
  static const std::set<std::string> kKeys = {"description", "entry_points", "parameters"};
  for (const auto& [key, value] : manifest.items()) {
    if (!kKeys.contains(key)) {
      return Status::InvalidArgument("project.json: unknown key '" + key +
                                     "' (known: description, entry_points, parameters)");
    }
  }
  if (packages.empty()) {
    return Status::InvalidArgument("the project has no files to deploy as packages");
  }
  std::set<std::string> entry_points;
  const bool all_entry = !manifest.contains("entry_points");
  if (!all_entry) {
    if (!manifest["entry_points"].is_array()) {
      return Status::InvalidArgument("project.json: 'entry_points' must be a list of file names");
    }
    for (const json& e : manifest["entry_points"]) {
      if (!e.is_string()) {
        return Status::InvalidArgument("project.json: 'entry_points' must be a list of file names");
      }
      const std::string name = e.get<std::string>();
      if (std::none_of(packages.begin(), packages.end(),
                       [&](const ProjectFile* f) { return f->name == name; })) {
        return Status::InvalidArgument("project.json: entry point '" + name +
                                       "' is not a file of the project");
      }
      entry_points.insert(name);
    }
  }
  json args{{"folder_name", folder_name}, {"project_name", project_name}};
  if (manifest.contains("description")) args["description"] = manifest["description"];
  json package_list = json::array();
  for (const ProjectFile* f : packages) {
    package_list.push_back({{"name", f->name},
                            {"content_base64", EncodeBase64(f->content)},
                            {"entry_point", all_entry || entry_points.contains(f->name)}});
  }
  args["packages"] = std::move(package_list);
  json parameters = json::array();
  if (manifest.contains("parameters")) {
    if (!manifest["parameters"].is_array()) {
      return Status::InvalidArgument("project.json: 'parameters' must be a list");
    }
    static const std::set<std::string> kParamKeys = {"name",     "data_type", "default",
                                                     "required", "sensitive", "package"};
    for (const json& p : manifest["parameters"]) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) {
        return Status::InvalidArgument("project.json: every parameter needs a \"name\"");
      }
      for (const auto& [key, value] : p.items()) {
        if (!kParamKeys.contains(key)) {
          return Status::InvalidArgument("project.json: parameter key '" + key +
                                         "' is unknown (known: name, data_type, default, "
                                         "required, sensitive, package)");
        }
      }
      json out{{"name", p["name"]}, {"data_type", p.value("data_type", "String")}};
      if (p.contains("default") && !p["default"].is_null()) {
        out["default_value"] =
            p["default"].is_string() ? p["default"].get<std::string>() : p["default"].dump();
      }
      out["required"] = p.value("required", false);
      out["sensitive"] = p.value("sensitive", false);
      if (p.contains("package")) {
        out["object_type"] = 30;
        out["object_name"] = p["package"];
      } else {
        out["object_type"] = 20;
      }
      parameters.push_back(std::move(out));
    }
  }
  args["parameters"] = std::move(parameters);
  return args;
}

}  // namespace

}  // namespace scaleout::core::management

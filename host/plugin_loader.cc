#include "host/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace scaleout::host {

namespace fs = std::filesystem;
using sdk::PluginDescriptor;
using sdk::PluginKind;
using sdk::Result;
using sdk::Status;

// An open plugin library and the descriptor it returned. Immutable once
// made; shared by the loader and by the deleter of every instance, so the
// library is unloaded only when the last of them is gone.
class LoadedLibrary {
 public:
  LoadedLibrary(fs::path file, boost::dll::shared_library library,
                const PluginDescriptor* descriptor)
      : file_(std::move(file)), library_(std::move(library)), descriptor_(descriptor) {}

  const fs::path& file() const noexcept { return file_; }
  const PluginDescriptor& descriptor() const noexcept { return *descriptor_; }
  PluginKind kind() const noexcept { return static_cast<PluginKind>(descriptor_->kind); }
  std::string full_name() const {
    return std::string(sdk::PluginKindName(kind())) + "/" + descriptor_->name;
  }

 private:
  fs::path file_;
  boost::dll::shared_library library_;  // dlclose()s in its destructor
  const PluginDescriptor* descriptor_;  // points into library_; never null
};

namespace {

constexpr std::string_view kFilePrefix = "libscaleout_";
constexpr std::string_view kFileSuffix = ".so";
constexpr std::size_t kCreateErrorCapacity = 1024;

std::string Quoted(const fs::path& file) { return "'" + file.string() + "'"; }

std::string AbiText(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

bool IsPluginFileName(const fs::path& file) {
  const std::string name = file.filename().string();
  return name.size() > kFilePrefix.size() + kFileSuffix.size() && name.starts_with(kFilePrefix) &&
         name.ends_with(kFileSuffix);
}

// dlopen() of a text file or a foreign binary says something obscure; check
// the ELF magic first so the common mistake gets a plain reason.
bool HasElfMagic(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> magic{};
  in.read(magic.data(), magic.size());
  return in.gcount() == 4 && magic[0] == '\x7f' && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

bool IsKnownKind(std::uint32_t kind) {
  return kind == static_cast<std::uint32_t>(PluginKind::kTransport) ||
         kind == static_cast<std::uint32_t>(PluginKind::kStorage) ||
         kind == static_cast<std::uint32_t>(PluginKind::kExecutor);
}

bool IsValidPluginName(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
    if (!ok) return false;
  }
  return true;
}

const char* OrEmpty(const char* text) { return text == nullptr ? "" : text; }

// The smallest descriptor the host accepts for a given minor version. Only
// 1.0 exists; a new minor appends fields and adds its size here.
std::size_t MinDescriptorSize(std::uint32_t /*abi_minor*/) { return sizeof(PluginDescriptor); }

// Opens `file` RTLD_NOW | RTLD_LOCAL: missing symbols fail here rather than
// at first use, and two plugins' symbols never shadow each other.
Result<boost::dll::shared_library> OpenLibrary(const fs::path& file) {
  if (!HasElfMagic(file)) {
    return Status::InvalidArgument(Quoted(file) +
                                   " is not a plugin: not an ELF shared library; remove it "
                                   "from the plugin folder");
  }
  std::error_code ec;
  boost::dll::shared_library library(
      file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library.is_loaded()) {
    const char* dl_error = dlerror();  // Boost.DLL leaves dlopen's reason in place
    std::string detail = dl_error != nullptr ? dl_error : ec.message();
    // dlerror() starts with the path again; say it once.
    if (const std::string prefix = file.string() + ": "; detail.starts_with(prefix)) {
      detail.erase(0, prefix.size());
    }
    return Status::InvalidArgument(Quoted(file) + " cannot be loaded: " + detail +
                                   "; rebuild it against this host's SDK and its libraries");
  }
  return library;
}

// Applies the SDK's rules (scaleout/sdk/plugin.h) in their documented order
// and fills `info` with whatever could be read safely so far.
Status CheckDescriptor(const fs::path& file, const PluginDescriptor* d, PluginInfo& info) {
  if (d == nullptr) {
    return Status::InvalidArgument(Quoted(file) + " is not a plugin: " + sdk::kEntryPointName +
                                   "() returned no descriptor");
  }
  info.abi = AbiText(d->abi_major, d->abi_minor);
  if (d->abi_major != sdk::kAbiMajor) {
    return Status::FailedPrecondition(
        Quoted(file) + " was built for plugin ABI " + info.abi + " but this host speaks ABI " +
        AbiText(sdk::kAbiMajor, sdk::kAbiMinor) + " (major differs); rebuild the plugin against " +
        "this host's SDK");
  }
  if (d->abi_minor > sdk::kAbiMinor) {
    return Status::FailedPrecondition(
        Quoted(file) + " needs plugin ABI " + info.abi + ", newer than this host's " +
        AbiText(sdk::kAbiMajor, sdk::kAbiMinor) + "; upgrade scaleout or rebuild the plugin " +
        "against this host's SDK");
  }
  if (d->struct_size < MinDescriptorSize(d->abi_minor)) {
    return Status::FailedPrecondition(
        Quoted(file) + " has a descriptor of " + std::to_string(d->struct_size) +
        " bytes but ABI " + info.abi + " needs at least " +
        std::to_string(MinDescriptorSize(d->abi_minor)) + "; rebuild it with SCALEOUT_PLUGIN");
  }
  // Only now is every field of the 1.0 layout known to be there.
  if (IsKnownKind(d->kind)) info.kind = std::string(sdk::PluginKindName(PluginKind{d->kind}));
  info.name = OrEmpty(d->name);
  info.version = OrEmpty(d->version);
  info.description = OrEmpty(d->description);
  info.fingerprint = OrEmpty(d->fingerprint);
  info.fingerprint_matches = info.fingerprint == HostBuildFingerprint();
  if (!info.fingerprint_matches) {
    return Status::FailedPrecondition(
        Quoted(file) + " has build fingerprint '" + info.fingerprint + "' but this host has '" +
        HostBuildFingerprint() + "' (fingerprint mismatch); rebuild the plugin with the same " +
        "SDK version, compiler and standard library as the host");
  }
  if (!IsKnownKind(d->kind)) {
    return Status::InvalidArgument(Quoted(file) + " declares unknown plugin kind " +
                                   std::to_string(d->kind) +
                                   "; use kTransport, kStorage or kExecutor");
  }
  if (!IsValidPluginName(d->name)) {
    return Status::InvalidArgument(Quoted(file) + " declares an invalid name '" + info.name +
                                   "'; names are [a-z0-9_-]+");
  }
  if (d->create == nullptr || d->destroy == nullptr) {
    return Status::InvalidArgument(Quoted(file) +
                                   " has no create() or destroy() in its descriptor; declare "
                                   "it with SCALEOUT_PLUGIN");
  }
  return Status::Ok();
}

// Opens and checks one file without calling create().
Result<std::shared_ptr<const LoadedLibrary>> OpenAndCheck(const fs::path& file, PluginInfo& info) {
  info.file = file;
  SCALEOUT_ASSIGN_OR_RETURN(boost::dll::shared_library library, OpenLibrary(file));
  if (!library.has(sdk::kEntryPointName)) {
    return Status::InvalidArgument(Quoted(file) + " is not a plugin: it does not export " +
                                   sdk::kEntryPointName + "; declare it with SCALEOUT_PLUGIN");
  }
  auto& entry_point = library.get<const PluginDescriptor*()>(sdk::kEntryPointName);
  const PluginDescriptor* descriptor = entry_point();
  SCALEOUT_RETURN_IF_ERROR(CheckDescriptor(file, descriptor, info));
  return std::make_shared<const LoadedLibrary>(file, std::move(library), descriptor);
}

// A plugin's create() reports "code_name: message" (SDK CreateInstance);
// recover the code so callers can tell a bad config from an unreachable peer.
Status StatusFromCreateError(std::string_view error) {
  constexpr std::string_view kThrew = "create() threw";
  if (error.starts_with(kThrew)) return Status::Internal(std::string(error));
  for (int code = 1; code <= static_cast<int>(sdk::StatusCode::kUnauthenticated); ++code) {
    const auto status_code = static_cast<sdk::StatusCode>(code);
    std::string prefix(sdk::StatusCodeName(status_code));
    prefix += ": ";
    if (error.starts_with(prefix)) {
      return Status(status_code, std::string(error.substr(prefix.size())));
    }
  }
  return Status::InvalidArgument(error.empty() ? std::string("create() failed without a reason")
                                               : std::string(error));
}

std::vector<fs::path> PluginFilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (IsPluginFileName(it->path()) && !it->is_directory(type_ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  return files;
}

fs::path Canonical(const fs::path& file) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(file, ec), ec);
  return ec ? file : canonical;
}

PluginInfo InfoOf(const LoadedLibrary& library) {
  const PluginDescriptor& d = library.descriptor();
  PluginInfo info;
  info.file = library.file();
  info.kind = std::string(sdk::PluginKindName(library.kind()));
  info.name = d.name;
  info.version = OrEmpty(d.version);
  info.description = OrEmpty(d.description);
  info.abi = AbiText(d.abi_major, d.abi_minor);
  info.fingerprint = OrEmpty(d.fingerprint);
  info.fingerprint_matches = true;
  info.loadable = true;
  return info;
}

}  // namespace

PluginDeleter::PluginDeleter(std::shared_ptr<const LoadedLibrary> library)
    : library_(std::move(library)) {}

void PluginDeleter::operator()(void* instance) const noexcept {
  // Take the reference first: the library may be unloaded when `library`
  // goes out of scope, after destroy() has returned.
  std::shared_ptr<const LoadedLibrary> library = std::move(library_);
  if (instance != nullptr && library != nullptr) library->descriptor().destroy(instance);
}

PluginLoader::PluginLoader(sdk::Logger& logger) : logger_(logger) {}

PluginLoader::~PluginLoader() = default;

std::vector<PluginInfo> PluginLoader::Discover(const fs::path& dir) {
  std::vector<PluginInfo> found;
  std::map<std::string, fs::path> first_file_of;  // kind/name -> file that declared it first
  for (const fs::path& file : PluginFilesIn(dir)) {
    PluginInfo info;
    auto opened = OpenAndCheck(file, info);  // the library is closed again at scope end
    if (!opened.ok()) {
      info.reason = opened.status().message();
    } else if (auto [it, inserted] = first_file_of.emplace(info.full_name(), file); !inserted) {
      info.reason = Quoted(file) + " declares " + info.full_name() + ", already provided by " +
                    Quoted(it->second) + " (duplicate kind/name); remove one of them";
    } else {
      info.loadable = true;
    }
    found.push_back(std::move(info));
  }
  return found;
}

std::vector<PluginInfo> PluginLoader::LoadDirectory(const fs::path& dir) {
  std::vector<PluginInfo> refused;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    PluginInfo info;
    info.file = dir;
    info.reason = "plugin folder " + Quoted(dir) +
                  " does not exist; pass --plugin-dir or set SCALEOUT_PLUGIN_DIR";
    logger_.Error(info.reason);
    refused.push_back(std::move(info));
    return refused;
  }
  for (const fs::path& file : PluginFilesIn(dir)) {
    Status status = LoadFile(file);
    if (status.ok()) continue;
    PluginInfo info;
    info.file = file;
    info.reason = status.message();
    refused.push_back(std::move(info));
  }
  return refused;
}

sdk::Status PluginLoader::LoadFile(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::NotFound("plugin file " + Quoted(file) + " does not exist");
  }
  const fs::path canonical = Canonical(file);
  for (const auto& [name, library] : loaded_) {
    if (Canonical(library->file()) == canonical) return Status::Ok();  // load once
  }
  PluginInfo info;
  auto opened = OpenAndCheck(file, info);
  if (!opened.ok()) {
    logger_.Warn("refused plugin: " + opened.status().message());
    return opened.status();
  }
  std::shared_ptr<const LoadedLibrary> library = std::move(opened).value();
  const std::string full_name = library->full_name();
  if (auto it = loaded_.find(full_name); it != loaded_.end()) {
    Status duplicate = Status::AlreadyExists(Quoted(file) + " declares " + full_name +
                                             ", already provided by " + Quoted(it->second->file()) +
                                             " (duplicate kind/name); remove one of them");
    logger_.Warn("refused plugin: " + duplicate.message());
    return duplicate;
  }
  logger_.Info("loaded plugin " + full_name + " " + info.version + " from " + file.string());
  loaded_.emplace(full_name, std::move(library));
  return Status::Ok();
}

sdk::Result<void*> PluginLoader::CreateRaw(PluginKind kind, const std::string& name,
                                           const sdk::ConfigView& config,
                                           std::shared_ptr<const LoadedLibrary>* library) {
  const std::string kind_name(sdk::PluginKindName(kind));
  const std::string full_name = name.find('/') == std::string::npos ? kind_name + "/" + name : name;
  auto it = loaded_.find(full_name);
  if (it == loaded_.end() || it->second->kind() != kind) {
    std::string available;
    for (const auto& [loaded_name, loaded_library] : loaded_) {
      if (loaded_library->kind() != kind) continue;
      if (!available.empty()) available += ", ";
      available += loaded_name;
    }
    return Status::NotFound("no " + kind_name + " plugin '" + full_name + "' is loaded; loaded " +
                            kind_name +
                            " plugins: " + (available.empty() ? std::string("(none)") : available) +
                            " (see 'scaleout plugins list')");
  }
  const sdk::PluginContext context{&config, &logger_};
  std::array<char, kCreateErrorCapacity> error{};
  void* instance = it->second->descriptor().create(&context, error.data(), error.size());
  if (instance == nullptr) {
    error.back() = '\0';  // never trust the plugin to terminate it
    return StatusFromCreateError(error.data())
        .WithContext("creating " + full_name + " from " + Quoted(it->second->file()));
  }
  *library = it->second;
  return instance;
}

namespace {

template <typename Interface>
sdk::Result<PluginPtr<Interface>> Wrap(sdk::Result<void*> raw,
                                       std::shared_ptr<const LoadedLibrary> library) {
  if (!raw.ok()) return raw.status();
  // create() returns exactly an Interface* (the SDK upcasts before the void*).
  return PluginPtr<Interface>(static_cast<Interface*>(raw.value()),
                              PluginDeleter(std::move(library)));
}

}  // namespace

sdk::Result<PluginPtr<sdk::Transport>> PluginLoader::CreateTransport(
    const std::string& name, const sdk::ConfigView& config) {
  std::shared_ptr<const LoadedLibrary> library;
  auto raw = CreateRaw(PluginKind::kTransport, name, config, &library);
  return Wrap<sdk::Transport>(std::move(raw), std::move(library));
}

sdk::Result<PluginPtr<sdk::Storage>> PluginLoader::CreateStorage(const std::string& name,
                                                                 const sdk::ConfigView& config) {
  std::shared_ptr<const LoadedLibrary> library;
  auto raw = CreateRaw(PluginKind::kStorage, name, config, &library);
  return Wrap<sdk::Storage>(std::move(raw), std::move(library));
}

sdk::Result<PluginPtr<sdk::Executor>> PluginLoader::CreateExecutor(const std::string& name,
                                                                   const sdk::ConfigView& config) {
  std::shared_ptr<const LoadedLibrary> library;
  auto raw = CreateRaw(PluginKind::kExecutor, name, config, &library);
  return Wrap<sdk::Executor>(std::move(raw), std::move(library));
}

std::vector<std::string> PluginLoader::LoadedNames() const {
  std::vector<std::string> names;
  for (const auto& [name, library] : loaded_) names.push_back(name);
  return names;  // std::map keeps them sorted
}

std::vector<PluginInfo> PluginLoader::LoadedPlugins() const {
  std::vector<PluginInfo> infos;
  for (const auto& [name, library] : loaded_) infos.push_back(InfoOf(*library));
  return infos;
}

const char* HostBuildFingerprint() { return SCALEOUT_BUILD_FINGERPRINT; }

fs::path DefaultPluginDir() {
  if (const char* env = std::getenv("SCALEOUT_PLUGIN_DIR"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  std::error_code ec;
  const fs::path exe = boost::dll::program_location(ec);
  if (ec) return fs::path(SCALEOUT_RELATIVE_PLUGIN_DIR);
  const fs::path prefix = exe.parent_path().parent_path();
  // Installed: <prefix>/<libdir>/scaleout/plugins; the build tree always uses lib/.
  fs::path installed = prefix / SCALEOUT_RELATIVE_PLUGIN_DIR;
  if (fs::is_directory(installed, ec)) return installed;
  return prefix / "lib" / "scaleout" / "plugins";
}

}  // namespace scaleout::host

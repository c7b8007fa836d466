#include "core/master/catalog_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace scaleout::core::master {

namespace fs = std::filesystem;

namespace {

sdk::Status FileError(const fs::path& path, std::string_view what) {
  return sdk::Status::Unavailable("cannot " + std::string(what) + " the catalog key file '" +
                                  path.string() + "': " + std::strerror(errno));
}

// Writes `text` to `path` as a new file of mode 0600: to a temporary file
// beside it first, synced, then renamed over, so a crash leaves the whole
// key or none.
sdk::Status WriteNewKeyFile(const fs::path& path, const std::string& text) {
  const fs::path temp = path.string() + ".new";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return FileError(temp, "create");
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (!written) {
    ::unlink(temp.c_str());
    return FileError(temp, "write");
  }
  // link() fails when another master made the file meanwhile: that one wins.
  if (::link(temp.c_str(), path.c_str()) != 0) {
    sdk::Status s = FileError(path, "create");
    ::unlink(temp.c_str());
    return s;
  }
  ::unlink(temp.c_str());
  const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return sdk::Status::Ok();
}

sdk::Result<catalog::CatalogKey> ReadKeyFile(const fs::path& path, const struct stat& st) {
  if ((st.st_mode & 077) != 0) {
    return sdk::Status::PermissionDenied(
        "the catalog key file '" + path.string() +
        "' can be read or written by other users; run 'chmod 600 " + path.string() + "'");
  }
  if (!S_ISREG(st.st_mode)) {
    return sdk::Status::InvalidArgument("the catalog key file '" + path.string() +
                                        "' is not a regular file");
  }
  std::ifstream in(path);
  if (!in) return FileError(path, "read");
  std::ostringstream text;
  text << in.rdbuf();
  auto key = catalog::CatalogKey::Parse(text.str());
  if (!key.ok()) {
    return key.status().WithContext("reading the catalog key file '" + path.string() + "'");
  }
  return key;
}

sdk::Status RenameFile(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return sdk::Status::Ok();
  return sdk::Status::Unavailable("cannot rename '" + from.string() + "' to '" + to.string() +
                                  "': " + std::strerror(errno));
}

}  // namespace

sdk::Status WriteCatalogKeyFile(const fs::path& path, const catalog::CatalogKey& key) {
  return WriteNewKeyFile(path, key.ToFileText());
}

sdk::Result<KeyRotation> RotateCatalogKeyFile(const fs::path& path, const std::string& recorded_id,
                                              const SealAgain& seal_again) {
  const fs::path next_path = path.string() + ".next";
  std::optional<catalog::CatalogKey> next;
  if (fs::exists(next_path)) {
    SCALEOUT_ASSIGN_OR_RETURN(LoadedCatalogKey pending, LoadCatalogKey(next_path, false));
    next.emplace(std::move(pending.key));
  }
  KeyRotation out;
  if (next && recorded_id == next->id()) {
    // Interrupted after the catalog took the new key: only the files are left.
    out.new_id = next->id();
    if (fs::exists(path)) {
      SCALEOUT_ASSIGN_OR_RETURN(LoadedCatalogKey current, LoadCatalogKey(path, false));
      out.old_id = current.key.id();
    }
  } else {
    SCALEOUT_ASSIGN_OR_RETURN(LoadedCatalogKey current, LoadCatalogKey(path, false));
    out.old_id = current.key.id();
    if (next) ::unlink(next_path.c_str());  // from a rotation that never reached the catalog
    SCALEOUT_ASSIGN_OR_RETURN(catalog::CatalogKey made, catalog::CatalogKey::Generate());
    SCALEOUT_RETURN_IF_ERROR(WriteCatalogKeyFile(next_path, made));
    out.new_id = made.id();
    SCALEOUT_ASSIGN_OR_RETURN(out.resealed, seal_again(current.key, made));
  }
  if (!out.old_id.empty()) {
    out.retired = path.string() + ".retired-" + out.old_id;
    SCALEOUT_RETURN_IF_ERROR(RenameFile(path, out.retired));
  }
  SCALEOUT_RETURN_IF_ERROR(RenameFile(next_path, path));
  return out;
}

sdk::Result<LoadedCatalogKey> LoadCatalogKey(const fs::path& path, bool may_create) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    SCALEOUT_ASSIGN_OR_RETURN(catalog::CatalogKey key, ReadKeyFile(path, st));
    return LoadedCatalogKey{std::move(key), false};
  }
  if (errno != ENOENT) return FileError(path, "read");
  if (!may_create) {
    return sdk::Status::FailedPrecondition(
        "the catalog key file '" + path.string() +
        "' does not exist, and the catalog's sensitive values are sealed with a key; restore the "
        "file from your backup, or copy it from the master that made it (every master of one "
        "catalog needs the same key), or point CatalogEncryptionKeyFile at it");
  }
  SCALEOUT_ASSIGN_OR_RETURN(catalog::CatalogKey key, catalog::CatalogKey::Generate());
  SCALEOUT_RETURN_IF_ERROR(WriteNewKeyFile(path, key.ToFileText()));
  return LoadedCatalogKey{std::move(key), true};
}

}  // namespace scaleout::core::master

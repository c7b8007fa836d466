#include "core/worker/fs_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

#include "core/common/ids.h"

namespace scaleout::core::worker {
namespace {

using sdk::Status;

Status Errno(std::string_view what, const std::filesystem::path& path) {
  return Status::Unavailable(std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open folder", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync folder", dir);
  return Status::Ok();
}

namespace {

// Writes `content` to a new temporary file beside `path`, fsynced; returns
// its name. The caller renames or links it into place.
sdk::Result<std::filesystem::path> WriteSyncedTemp(const std::filesystem::path& path,
                                                   std::string_view content, unsigned mode) {
  std::filesystem::path tmp = path.string() + ".tmp-" + NewGuid();
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return Errno("cannot create", tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  return tmp;
}

}  // namespace

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           unsigned mode) {
  SCALEOUT_ASSIGN_OR_RETURN(std::filesystem::path tmp, WriteSyncedTemp(path, content, mode));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno("cannot rename into", path);
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDirectory(path.parent_path().empty() ? "." : path.parent_path());
}

Status WriteFileExclusively(const std::filesystem::path& path, std::string_view content,
                            unsigned mode) {
  SCALEOUT_ASSIGN_OR_RETURN(std::filesystem::path tmp, WriteSyncedTemp(path, content, mode));
  // link(2) publishes the whole file under its name, or fails if the name exists.
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int error = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && error == EEXIST) {
    return Status::AlreadyExists(path.string() + " exists already");
  }
  if (linked != 0) {
    errno = error;
    return Errno("cannot link into", path);
  }
  return SyncDirectory(path.parent_path().empty() ? "." : path.parent_path());
}

sdk::Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path.string());
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void ForEachEntry(const std::filesystem::path& dir,
                  const std::function<void(const std::filesystem::directory_entry&)>& visit) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    visit(*it);
  }
}

std::int64_t MtimeMillis(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::int64_t MtimeMillis(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? MtimeMillis(st) : -1;
}

bool SetModificationTime(const std::filesystem::path& path, std::int64_t unix_ms) {
  timespec times[2];
  times[0].tv_sec = unix_ms / 1000;
  times[0].tv_nsec = (unix_ms % 1000) * 1'000'000;
  times[1] = times[0];
  return ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex = HexUpper(std::string_view(reinterpret_cast<const char*>(digest), length));
  for (char& c : hex) c = static_cast<char>((c >= 'A' && c <= 'F') ? c - 'A' + 'a' : c);
  return hex;
}

}  // namespace scaleout::core::worker

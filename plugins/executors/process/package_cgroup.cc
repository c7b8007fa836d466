#include "plugins/executors/process/package_cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "plugins/executors/process/close_fd.h"

namespace scaleout::plugins::process {
namespace {

constexpr std::string_view kPrefix = "scaleout-packages-";
constexpr int kLeftoverKillLimitMs = 2000;

std::string ReadText(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t end = line.find(' ', at);
    fields.push_back(line.substr(at, end == std::string_view::npos ? end : end - at));
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return fields;
}

// mountinfo writes a space in a path as \040 (and so on, in octal).
std::string Unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 4, value, 8);
      if (ec == std::errc() && end == text.data() + i + 4) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

int OpenControl(const std::string& folder, const char* file, int flags) {
  return ::open((folder + "/" + file).c_str(), flags | O_CLOEXEC);
}

bool EventsSayEmpty(int events_fd) {
  char buffer[256];
  const ssize_t n = ::pread(events_fd, buffer, sizeof buffer - 1, 0);
  if (n <= 0) return true;  // gone: nothing left in it
  buffer[n] = '\0';
  return std::strstr(buffer, "populated 0") != nullptr;
}

// Kills and removes `folder` (a cgroup made by this class); best effort.
void KillAndRemove(const std::string& folder) {
  if (::rmdir(folder.c_str()) == 0 || errno == ENOENT) return;
  const int kill_fd = OpenControl(folder, "cgroup.kill", O_WRONLY);
  if (kill_fd >= 0) {
    [[maybe_unused]] ssize_t ignored = ::write(kill_fd, "1", 1);
    ::close(kill_fd);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (::rmdir(folder.c_str()) != 0 && errno == EBUSY &&
         std::chrono::steady_clock::now() < until) {
    ::usleep(1000);
  }
}

// Removes the cgroups of task hosts that died without removing theirs (a
// SIGKILLed worker's hosts die of their parent-death signal).
void RemoveLeftovers(const std::string& place) {
  DIR* dir = ::opendir(place.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> dead;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    if (name.substr(0, kPrefix.size()) != kPrefix) continue;
    const std::string_view digits = name.substr(kPrefix.size());
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    if (::kill(pid, 0) != 0 && errno == ESRCH) dead.push_back(place + "/" + std::string(name));
  }
  ::closedir(dir);
  for (const std::string& folder : dead) KillAndRemove(folder);
}

}  // namespace

std::optional<std::string> CgroupFolderFrom(std::string_view mountinfo,
                                            std::string_view proc_cgroup) {
  // "0::/path": the unified hierarchy's line.
  std::optional<std::string> own;
  std::size_t at = 0;
  while (at <= proc_cgroup.size()) {
    std::size_t end = proc_cgroup.find('\n', at);
    if (end == std::string_view::npos) end = proc_cgroup.size();
    const std::string_view line = proc_cgroup.substr(at, end - at);
    if (line.substr(0, 3) == "0::") own = std::string(line.substr(3));
    at = end + 1;
  }
  if (!own || own->empty() || (*own)[0] != '/') return std::nullopt;
  at = 0;
  while (at <= mountinfo.size()) {
    std::size_t end = mountinfo.find('\n', at);
    if (end == std::string_view::npos) end = mountinfo.size();
    const std::string_view line = mountinfo.substr(at, end - at);
    at = end + 1;
    const std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const std::vector<std::string_view> after = Fields(line.substr(dash + 3));
    if (after.empty() || after[0] != "cgroup2") continue;
    const std::vector<std::string_view> before = Fields(line.substr(0, dash));
    if (before.size() < 5) continue;
    const std::string root = Unescape(before[3]);
    const std::string mount_point = Unescape(before[4]);
    std::string path = *own;
    if (root != "/") {
      if (path.rfind(root, 0) != 0) continue;  // our cgroup is not under this mount
      path = path.substr(root.size());
    }
    if (path == "/") path.clear();
    return mount_point + path;
  }
  return std::nullopt;
}

std::optional<CgroupPlace> FindCgroupPlace(std::string* why) {
  const std::optional<std::string> folder =
      CgroupFolderFrom(ReadText("/proc/self/mountinfo"), ReadText("/proc/self/cgroup"));
  if (!folder) {
    *why = "no cgroup v2 hierarchy is mounted for this process";
    return std::nullopt;
  }
  if (::access(folder->c_str(), W_OK | X_OK) != 0 ||
      ::access((*folder + "/cgroup.procs").c_str(), W_OK) != 0) {
    *why = "this process may not make cgroups in " + *folder + " (" + std::strerror(errno) +
           "); run the worker as root or give it a delegated cgroup (Delegate=yes in its "
           "service unit)";
    return std::nullopt;
  }
  return CgroupPlace{*folder};
}

sdk::Result<std::unique_ptr<PackageCgroup>> PackageCgroup::Make(const CgroupPlace& place) {
  RemoveLeftovers(place.folder);
  std::unique_ptr<PackageCgroup> cgroup(new PackageCgroup());
  cgroup->folder_ = place.folder + "/" + std::string(kPrefix) + std::to_string(::getpid());
  if (::mkdir(cgroup->folder_.c_str(), 0755) != 0 && errno != EEXIST) {
    return sdk::Status::Unavailable("cannot make the packages' cgroup " + cgroup->folder_ + ": " +
                                    std::strerror(errno));
  }
  cgroup->procs_fd_ = OpenControl(cgroup->folder_, "cgroup.procs", O_WRONLY);
  cgroup->events_fd_ = OpenControl(cgroup->folder_, "cgroup.events", O_RDONLY);
  cgroup->kill_fd_ = OpenControl(cgroup->folder_, "cgroup.kill", O_WRONLY);
  if (cgroup->procs_fd_ < 0 || cgroup->events_fd_ < 0 || cgroup->kill_fd_ < 0) {
    // cgroup.kill came with Linux 5.14.
    return sdk::Status::Unavailable("cannot open the control files of the packages' cgroup " +
                                    cgroup->folder_ +
                                    " (Linux 5.14 or later has them all): " + std::strerror(errno));
  }
  return cgroup;
}

PackageCgroup::~PackageCgroup() {
  if (events_fd_ >= 0 && kill_fd_ >= 0) KillAll(kLeftoverKillLimitMs);
  CloseFd(&procs_fd_);
  CloseFd(&events_fd_);
  CloseFd(&kill_fd_);
  if (!folder_.empty()) ::rmdir(folder_.c_str());
}

bool PackageCgroup::Empty() const { return EventsSayEmpty(events_fd_); }

bool PackageCgroup::KillAll(int limit_ms) {
  if (Empty()) return true;
  if (::pwrite(kill_fd_, "1", 1, 0) != 1) return Empty();
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  // cgroup.events signals each change as POLLPRI.
  while (!Empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          until - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    pollfd watch{events_fd_, POLLPRI, 0};
    ::poll(&watch, 1, static_cast<int>(left < 50 ? left : 50));
  }
  return true;
}

}  // namespace scaleout::plugins::process

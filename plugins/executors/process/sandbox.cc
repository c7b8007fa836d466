#include "plugins/executors/process/sandbox.h"

#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace scaleout::plugins::process {
namespace {

constexpr std::string_view kWhere = "executor/process: ";
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// getpwnam_r / getpwuid_r want a buffer; its size is a hint, grown on ERANGE.
class PasswdLookup {
 public:
  // Returns the entry or nullptr (no such account, or an error in `*error`).
  const passwd* ByName(const std::string& name, int* error) {
    return Look(
        [&](passwd** found) {
          return ::getpwnam_r(name.c_str(), &entry_, buffer_.data(), buffer_.size(), found);
        },
        error);
  }
  const passwd* ById(uid_t uid, int* error) {
    return Look(
        [&](passwd** found) {
          return ::getpwuid_r(uid, &entry_, buffer_.data(), buffer_.size(), found);
        },
        error);
  }

 private:
  template <typename Call>
  const passwd* Look(Call call, int* error) {
    for (;;) {
      passwd* found = nullptr;
      *error = call(&found);
      if (*error == ERANGE && buffer_.size() < (std::size_t{1} << 20)) {
        buffer_.resize(buffer_.size() * 2);
        continue;
      }
      return *error == 0 ? found : nullptr;
    }
  }
  passwd entry_{};
  std::vector<char> buffer_ = std::vector<char>(4096);
};

std::optional<uid_t> ParseUid(std::string_view text) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value >= 0xFFFFFFFFul) {
    return std::nullopt;
  }
  return static_cast<uid_t>(value);
}

sdk::Result<std::vector<gid_t>> GroupsOf(const passwd& entry) {
  int count = 16;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  for (int attempt = 0; attempt < 8; ++attempt) {
    int found = count;
    if (::getgrouplist(entry.pw_name, entry.pw_gid, groups.data(), &found) >= 0) {
      groups.resize(static_cast<std::size_t>(found));
      return groups;
    }
    count = found > count ? found : count * 2;  // -1: `found` says how many there are
    groups.resize(static_cast<std::size_t>(count));
  }
  return sdk::Status::Unavailable(std::string(kWhere) + "cannot list the groups of account '" +
                                  entry.pw_name + "'");
}

// The bits of CapEff: CAP_CHOWN 0, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7.
struct NamedCapability {
  int bit;
  const char* name;
};
constexpr std::array<NamedCapability, 4> kSwitchCapabilities = {
    {{0, "CAP_CHOWN"}, {5, "CAP_KILL"}, {6, "CAP_SETGID"}, {7, "CAP_SETUID"}}};

std::string ReadOwnStatus() {
  std::ifstream in("/proc/self/status");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

sdk::Status CheckCanSwitchTo(const Account& account) {
  const std::vector<std::string> missing = MissingSwitchCapabilities(ReadOwnStatus());
  if (missing.empty()) return sdk::Status::Ok();
  std::string names;
  for (const std::string& name : missing) names += (names.empty() ? "" : ", ") + name;
  return sdk::Status::PermissionDenied(
      std::string(kWhere) + "run_as_user '" + account.name +
      "': this process may not run packages as another account (it lacks " + names +
      "); run the worker as root, or give it those capabilities, or leave run_as_user empty");
}

// The limit `key` asks for, `value` in `unit`s; refused above our own hard
// limit, which only a process with CAP_SYS_RESOURCE could raise (root in a
// container often lacks it), so the package would fail to start.
sdk::Status AddLimit(std::string key, int resource, std::int64_t value, std::uint64_t unit,
                     std::vector<ResourceLimit>* limits) {
  if (value <= 0) return sdk::Status::Ok();
  const std::uint64_t wanted = static_cast<std::uint64_t>(value) * unit;
  const std::uint64_t hard = resource == RLIMIT_CPU ? wanted + 1 : wanted;
  rlimit own{};
  if (::getrlimit(resource, &own) == 0 && own.rlim_max != RLIM_INFINITY && hard > own.rlim_max) {
    return sdk::Status::FailedPrecondition(
        std::string(kWhere) + key + " " + std::to_string(value) +
        " is above this worker's own hard limit (" + std::to_string(own.rlim_max / unit) +
        "); lower it, or raise the worker's limit (ulimit -H, or LimitNOFILE= and the like "
        "in its service unit)");
  }
  limits->push_back({resource, wanted, hard, std::move(key)});
  return sdk::Status::Ok();
}

}  // namespace

sdk::Result<Account> LookUpAccount(std::string_view user) {
  PasswdLookup lookup;
  int error = 0;
  const passwd* entry = lookup.ByName(std::string(user), &error);
  if (entry == nullptr && error == 0) {
    if (const std::optional<uid_t> uid = ParseUid(user)) entry = lookup.ById(*uid, &error);
  }
  if (entry == nullptr) {
    if (error != 0) {
      return sdk::Status::Unavailable(std::string(kWhere) + "cannot look up account '" +
                                      std::string(user) + "': " + std::strerror(error));
    }
    return sdk::Status::NotFound(std::string(kWhere) + "run_as_user '" + std::string(user) +
                                 "': no such account on this machine; create it (useradd "
                                 "--system --no-create-home NAME) or name another");
  }
  Account account;
  account.name = entry->pw_name;
  account.uid = entry->pw_uid;
  account.gid = entry->pw_gid;
  account.home = entry->pw_dir != nullptr ? entry->pw_dir : "/";
  account.shell =
      entry->pw_shell != nullptr && entry->pw_shell[0] != '\0' ? entry->pw_shell : "/bin/sh";
  SCALEOUT_ASSIGN_OR_RETURN(account.groups, GroupsOf(*entry));
  return account;
}

std::vector<std::string> MissingSwitchCapabilities(std::string_view proc_status) {
  std::vector<std::string> missing;
  std::uint64_t effective = 0;
  const std::size_t at = proc_status.find("\nCapEff:");
  bool read = false;
  if (at != std::string_view::npos) {
    std::size_t begin = proc_status.find_first_not_of(" \t", at + 8);
    if (begin != std::string_view::npos) {
      const char* first = proc_status.data() + begin;
      const char* last = proc_status.data() + proc_status.size();
      auto [end, ec] = std::from_chars(first, last, effective, 16);
      read = ec == std::errc() && end != first;
    }
  }
  for (const NamedCapability& capability : kSwitchCapabilities) {
    if (!read || (effective & (std::uint64_t{1} << capability.bit)) == 0) {
      missing.emplace_back(capability.name);
    }
  }
  return missing;
}

void SetAccountVariables(const Account& account, EnvMap* env) {
  (*env)["HOME"] = account.home;
  (*env)["USER"] = account.name;
  (*env)["LOGNAME"] = account.name;
  (*env)["SHELL"] = account.shell;
}

sdk::Result<Sandbox> MakeSandbox(const Options& options) {
  Sandbox sandbox;
  if (!options.run_as_user.empty()) {
    SCALEOUT_ASSIGN_OR_RETURN(Account account, LookUpAccount(options.run_as_user));
    SCALEOUT_RETURN_IF_ERROR(CheckCanSwitchTo(account));
    sandbox.account = std::move(account);
  }
  std::vector<ResourceLimit>& limits = sandbox.limits;
  SCALEOUT_RETURN_IF_ERROR(
      AddLimit("max_open_files", RLIMIT_NOFILE, options.max_open_files, 1, &limits));
  SCALEOUT_RETURN_IF_ERROR(
      AddLimit("max_file_size_mb", RLIMIT_FSIZE, options.max_file_size_mb, kMiB, &limits));
  SCALEOUT_RETURN_IF_ERROR(
      AddLimit("max_virtual_memory_mb", RLIMIT_AS, options.max_virtual_memory_mb, kMiB, &limits));
  SCALEOUT_RETURN_IF_ERROR(
      AddLimit("max_processes", RLIMIT_NPROC, options.max_processes, 1, &limits));
  SCALEOUT_RETURN_IF_ERROR(
      AddLimit("max_cpu_seconds", RLIMIT_CPU, options.max_cpu_seconds, 1, &limits));
  if (!options.core_dumps) limits.push_back({RLIMIT_CORE, 0, 0, "core_dumps"});
  sandbox.no_new_privileges = options.no_new_privileges;
  if (options.cgroup != Options::Cgroup::kOff) {
    std::string why;
    sandbox.cgroup_place = FindCgroupPlace(&why);
    if (!sandbox.cgroup_place && options.cgroup == Options::Cgroup::kOn) {
      return sdk::Status::FailedPrecondition(std::string(kWhere) + "cgroup = on: " + why +
                                             "; or set cgroup = auto");
    }
  }
  return sandbox;
}

}  // namespace scaleout::plugins::process

// Sandbox: the account a package runs as and the limits it runs under (the
// executor/process options run_as_user, max_*, core_dumps and
// no_new_privileges; docs/executors.md).
//
// SSIS runs every package under the worker's service account, with "no
// security boundary" between packages of different users. With run_as_user
// a package runs under an account of its own instead, so it cannot read the
// worker's private key, settings or event spool, nor signal the worker.
//
// MakeSandbox resolves everything once, when the executor is made, so a bad
// setting stops the worker at start instead of failing every task: the
// account (getpwnam_r, getgrouplist), whether this process may switch to it
// (its capabilities), and whether each limit is within this process's own
// hard limit (a process may lower its limits, not raise them). The child
// applies the result with raw system calls between clone and execve
// (child_process.cc).
//
// Thread-safety: value types and pure functions (LookUpAccount reads the
// account database, which is thread-safe through the _r functions).
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_SANDBOX_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_SANDBOX_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/executors/process/options.h"
#include "plugins/executors/process/package.h"
#include "plugins/executors/process/package_cgroup.h"
#include "scaleout/sdk/status.h"

namespace scaleout::plugins::process {

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, the primary one included
  std::string home;
  std::string shell;
};

// One setrlimit of the package, in the kernel's unit (bytes, seconds,
// count). Soft and hard are the same but for the CPU time, whose hard limit
// is a second later: the package first gets SIGXCPU, which says why it
// ended (and which it may catch to clean up), and SIGKILL only after that.
struct ResourceLimit {
  int resource = 0;  // RLIMIT_*
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  std::string key;  // the option that asked for it, for messages
};

struct Sandbox {
  std::optional<Account> account;  // nullopt: the task host's own account
  std::vector<ResourceLimit> limits;
  bool no_new_privileges = false;  // PR_SET_NO_NEW_PRIVS
  // Where the packages' cgroup is made; nullopt: none (cgroup off, or auto
  // without a writable cgroup v2 hierarchy).
  std::optional<CgroupPlace> cgroup_place;
};

// The sandbox `options` ask for. Errors (kInvalidArgument, kPermissionDenied,
// kFailedPrecondition) name the option and say what to change.
sdk::Result<Sandbox> MakeSandbox(const Options& options);

// An account by name, or by number ("1001") when no account has that name.
// kNotFound when there is no such account.
sdk::Result<Account> LookUpAccount(std::string_view user);

// The capabilities switching packages to another account needs that the
// process whose /proc/<pid>/status text is `proc_status` lacks in its
// effective set: CAP_CHOWN (the task's folder), CAP_KILL (stopping the
// package), CAP_SETGID and CAP_SETUID. All of them when the text has no
// CapEff line.
std::vector<std::string> MissingSwitchCapabilities(std::string_view proc_status);

// HOME, USER, LOGNAME and SHELL of `account`, over what `env` has (as su
// and sudo set them): an inherited HOME would point into the worker's.
void SetAccountVariables(const Account& account, EnvMap* env);

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_SANDBOX_H_

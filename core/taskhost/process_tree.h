// Finding and killing what a task left behind (Linux /proc).
//
// Without cgroups, the task's boundary is its session: the task host is
// started as a session leader, and every process it or its package starts
// stays in that session unless it calls setsid() itself. Process groups are
// not enough, because executors put their packages in groups of their own.
//
// Thread-safety: stateless; safe from any thread.
#ifndef SCALEOUT_CORE_TASKHOST_PROCESS_TREE_H_
#define SCALEOUT_CORE_TASKHOST_PROCESS_TREE_H_

#include <sys/types.h>

#include <vector>

namespace scaleout::core::taskhost {

// The live (not zombie) processes whose session id is `sid`.
std::vector<pid_t> SessionMembers(pid_t sid);

// SIGKILLs every live process of session `sid`, again and again until a scan
// finds none (a process may fork while we scan). Returns how many it
// signalled. REQUIRES: the caller knows `sid` is still its task's session,
// e.g. because the leader is its unreaped child, so the id cannot be reused.
int KillSession(pid_t sid);

// True when `pid` no longer runs: it does not exist, or it is a zombie
// waiting for a parent to reap it (an orphan whose new parent does not reap
// stays a zombie; it runs no code and holds no resources but its pid).
bool IsProcessGone(pid_t pid);

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_PROCESS_TREE_H_

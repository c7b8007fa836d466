// CloseFd: closes a descriptor the caller owns and marks it closed (-1), so
// that a second call does nothing.
//
// Thread-safety: the caller owns *fd.
#ifndef SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CLOSE_FD_H_
#define SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CLOSE_FD_H_

#include <unistd.h>

namespace scaleout::plugins::process {

inline void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace scaleout::plugins::process

#endif  // SCALEOUT_PLUGINS_EXECUTORS_PROCESS_CLOSE_FD_H_

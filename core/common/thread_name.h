// Names the calling thread, so that `top -H`, `ps -L`, `perf` and a
// debugger tell the master's catalog writer from its transport threads and
// a worker's poll thread from its shipper.
//
// Thread-safety: names the calling thread only; any thread.
#ifndef SCALEOUT_CORE_COMMON_THREAD_NAME_H_
#define SCALEOUT_CORE_COMMON_THREAD_NAME_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace scaleout::core {

// The kernel keeps 15 bytes of a thread's name: longer names are cut.
inline constexpr std::size_t kMaxThreadNameBytes = 15;

// Names the calling thread `name` (cut to kMaxThreadNameBytes). A failure
// changes nothing else, so it is not reported.
void NameThisThread(std::string_view name);

// The calling thread's name ("" if it cannot be read).
std::string ThisThreadName();

// Starts `body` on a new thread that first names itself `name`, a string
// that outlives the thread's start (a literal). Throws as std::thread does.
template <typename Body>
std::thread NamedThread(const char* name, Body body) {
  return std::thread([name, body = std::move(body)]() mutable {
    NameThisThread(name);
    body();
  });
}

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_THREAD_NAME_H_

#include "core/common/thread_name.h"

#include <pthread.h>

#include <array>

namespace scaleout::core {

void NameThisThread(std::string_view name) {
  std::array<char, kMaxThreadNameBytes + 1> cut{};
  name.copy(cut.data(), kMaxThreadNameBytes);
  (void)::pthread_setname_np(::pthread_self(), cut.data());
}

std::string ThisThreadName() {
  std::array<char, kMaxThreadNameBytes + 1> name{};
  if (::pthread_getname_np(::pthread_self(), name.data(), name.size()) != 0) return {};
  return name.data();
}

}  // namespace scaleout::core

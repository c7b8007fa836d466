#include "core/catalog/roles.h"

#include <algorithm>

namespace scaleout::core::catalog {

bool Caller::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Caller::HasAnyRole(std::initializer_list<std::string_view> wanted) const {
  return std::any_of(wanted.begin(), wanted.end(), [&](std::string_view r) { return HasRole(r); });
}

sdk::Status RequireRole(const Caller& caller, std::string_view action,
                        std::initializer_list<std::string_view> allowed) {
  if (caller.HasAnyRole(allowed)) return sdk::Status::Ok();
  std::string needed;
  std::size_t i = 0;
  for (std::string_view role : allowed) {
    if (i > 0) needed += (i + 1 == allowed.size()) ? " or " : ", ";
    needed += role;
    ++i;
  }
  return sdk::Status::PermissionDenied("'" + caller.name + "' may not " + std::string(action) +
                                       "; it needs the role " + needed);
}

}  // namespace scaleout::core::catalog

// DashboardSite: the web dashboard's files, served by the master.
//
// The dashboard (web/dashboard/) is a handful of static files compiled into
// the host; every figure it shows comes from the JSON API (/api/v1/) with
// the principal's token, so the API's role checks guard it and the files
// themselves hold nothing secret. This class only answers GET for those
// files: "/" is index.html, each other file is at "/<name>".
//
// Thread-safety: immutable after construction; Serve() from any thread.
#ifndef SCALEOUT_CORE_MANAGEMENT_DASHBOARD_H_
#define SCALEOUT_CORE_MANAGEMENT_DASHBOARD_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scaleout/sdk/transport.h"

namespace scaleout::core::management {

// One file. The views must outlive the site (they point into the host's
// read-only data).
struct StaticAsset {
  std::string_view name;  // "index.html", "app.mjs"
  std::string_view bytes;
};

// The MIME type the dashboard's files are served with, by extension; the
// browser runs a module script only with a JavaScript type.
std::string_view ContentTypeFor(std::string_view name);

class DashboardSite {
 public:
  // REQUIRES: `assets` names index.html, and no name contains '/'.
  explicit DashboardSite(std::span<const StaticAsset> assets);

  // The answer for `request` when its path ("/", "/index.html", "/app.mjs";
  // the query is ignored) is one of the files: the file for GET, 405 for
  // any other method. nullopt when it names none of them, so the caller
  // answers as for any unknown endpoint.
  std::optional<sdk::Response> Serve(const sdk::Request& request) const;

 private:
  const StaticAsset* Find(std::string_view path) const;

  std::vector<StaticAsset> assets_;
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_DASHBOARD_H_

// The web dashboard's files (web/dashboard/), compiled into the host by
// web/embed_files.cmake. Thread-safety: read-only data.
#ifndef SCALEOUT_WEB_DASHBOARD_FILES_H_
#define SCALEOUT_WEB_DASHBOARD_FILES_H_

#include <cstddef>
#include <span>

namespace scaleout::web {

struct EmbeddedFile {
  const char* name;           // "index.html"
  const unsigned char* data;  // `size` bytes (and a trailing 0 not counted)
  std::size_t size;
};

// Every file of the dashboard, index.html among them; static storage.
std::span<const EmbeddedFile> DashboardFiles();

}  // namespace scaleout::web

#endif  // SCALEOUT_WEB_DASHBOARD_FILES_H_

#include "core/taskhost/work_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace scaleout::core::taskhost {

sdk::Status EnsureWorkDir(const std::string& dir) {
  // One mkdir in the usual case: TasksRootFolder exists, the folder not yet.
  if (::mkdir(dir.c_str(), 0700) == 0) return sdk::Status::Ok();
  std::error_code ec(errno, std::generic_category());
  if (ec == std::errc::file_exists || ec == std::errc::no_such_file_or_directory) {
    ec.clear();
    if (std::filesystem::is_directory(dir, ec)) return sdk::Status::Ok();
    ec.clear();
    if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0700);
    if (!ec && std::filesystem::is_directory(dir, ec)) return sdk::Status::Ok();
    if (!ec) ec = std::make_error_code(std::errc::not_a_directory);
  }
  return sdk::Status::Unavailable("cannot create the task folder '" + dir + "': " + ec.message() +
                                  "; check 'TasksRootFolder' (it must be a writable folder)");
}

}  // namespace scaleout::core::taskhost

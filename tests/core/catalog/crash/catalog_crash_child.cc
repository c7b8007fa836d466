// The crash child: drives a stream of catalog writes through the
// CatalogWriter on a real SQLite file (synchronous=FULL) until it is killed.
//
// After each acknowledgement it writes one line to stdout with write(2) (no
// stdio buffer, a single write below PIPE_BUF, so the line is whole in the
// parent's pipe the moment the ack is seen). The parent kills it with
// SIGKILL and checks that everything acknowledged is in the catalog.
//
// Usage: catalog_crash_child <plugin dir> <database file> <first id> <threads>
// Lines: "ready", then "i <id>" per committed insert.
// Exit codes: 2 bad usage, 3 setup failed (message on stderr).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/catalog/catalog_writer.h"
#include "host/plugin_loader.h"
#include "scaleout/sdk/config.h"
#include "scaleout/sdk/logger.h"
#include "tests/core/catalog/crash/crash_workload.h"

namespace {

using scaleout::core::catalog::CatalogWriter;
namespace crash = scaleout::core::catalog::crash;

void WriteLine(const std::string& line) {
  // A short write to a pipe is atomic; a failed write means the parent is
  // gone, and there is nobody left to tell.
  const std::string text = line + "\n";
  if (::write(STDOUT_FILENO, text.data(), text.size()) < 0) std::_Exit(4);
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "catalog_crash_child: %s\n", what.c_str());
  std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <plugin dir> <database file> <first id> <threads>\n", argv[0]);
    return 2;
  }
  const std::string plugin_dir = argv[1];
  const std::string database = argv[2];
  const std::int64_t first_id = std::strtoll(argv[3], nullptr, 10);
  const int threads = std::atoi(argv[4]);

  scaleout::sdk::NullLogger logger;
  scaleout::host::PluginLoader loader(logger);
  auto storage = crash::OpenStorage(loader, plugin_dir, database);
  if (!storage.ok()) Fail(storage.status().ToString());
  scaleout::sdk::Status setup = crash::PrepareDatabase(**storage);
  if (!setup.ok()) Fail(setup.ToString());

  auto writer = CatalogWriter::Open(**storage);
  if (!writer.ok()) Fail(writer.status().ToString());
  WriteLine("ready");

  // Each thread writes its own id range, forever; the parent ends it.
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&writer, first_id, t] {
      for (std::int64_t i = 0;; ++i) {
        const std::int64_t id = first_id + t * 1'000'000 + i;
        scaleout::sdk::Status s =
            (*writer)->Execute([id](scaleout::sdk::Connection& c) { return crash::Insert(c, id); });
        if (!s.ok()) Fail("insert " + std::to_string(id) + ": " + s.ToString());
        WriteLine("i " + std::to_string(id));
      }
    });
  }
  for (auto& c : clients) c.join();
  return 0;
}

// The crash child: drives a stream of catalog writes through the
// CatalogWriter on a real SQLite file (synchronous=FULL) until it is killed.
//
// After each acknowledgement it writes one line to stdout with write(2) (no
// stdio buffer, a single write below PIPE_BUF, so the line is whole in the
// parent's pipe the moment the ack is seen). The parent kills it with
// SIGKILL and checks that everything acknowledged is in the catalog.
//
// Each client thread runs execution life cycles with the catalog's real
// procedures, one CatalogWriter op each: create_execution, start_execution,
// ClaimTasks, CompleteTask.
//
// Usage: catalog_crash_child <plugin dir> <database file> <threads>
// Lines: "ready", then "<op> <execution id>" per acknowledged op (see
// crash_workload.h).
// Exit codes: 2 bad usage, 3 setup failed (message on stderr).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
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

void Ack(char op, std::int64_t execution_id) {
  WriteLine(std::string(1, op) + " " + std::to_string(execution_id));
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "catalog_crash_child: %s\n", what.c_str());
  std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <plugin dir> <database file> <threads>\n", argv[0]);
    return 2;
  }
  const std::string plugin_dir = argv[1];
  const std::string database = argv[2];
  const int threads = std::atoi(argv[3]);

  scaleout::sdk::NullLogger logger;
  scaleout::host::PluginLoader loader(logger);
  auto storage = crash::OpenStorage(loader, plugin_dir, database);
  if (!storage.ok()) Fail(storage.status().ToString());
  scaleout::sdk::Status setup = crash::PrepareDatabase(**storage);
  if (!setup.ok()) Fail(setup.ToString());

  auto writer = CatalogWriter::Open(**storage);
  if (!writer.ok()) Fail(writer.status().ToString());
  WriteLine("ready");

  // Each thread runs life cycles forever; the parent ends it with SIGKILL.
  CatalogWriter& w = **writer;
  const scaleout::sdk::Dialect& d = (*storage)->GetDialect();
  std::vector<std::thread> clients;
  clients.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&w, &d] {
      using scaleout::sdk::Connection;
      while (true) {
        auto id = w.Execute([&d](Connection& c) { return crash::Create(c, d); });
        if (!id.ok()) Fail("create_execution: " + id.status().ToString());
        Ack('c', *id);
        auto started = w.Execute([&](Connection& c) { return crash::Start(c, d, *id); });
        if (!started.ok()) Fail("start_execution: " + started.ToString());
        Ack('s', *id);
        // Claims take the oldest pending task, which may be another
        // thread's (or a killed child's); there is always at least one.
        auto claim = w.Execute([&d](Connection& c) { return crash::ClaimOne(c, d); });
        if (!claim.ok()) Fail("ClaimTasks: " + claim.status().ToString());
        if (claim->task_id.empty()) continue;
        Ack('k', claim->execution_id);
        auto done = w.Execute([&](Connection& c) { return crash::Complete(c, d, *claim); });
        if (!done.ok()) Fail("CompleteTask: " + done.ToString());
        Ack('d', claim->execution_id);
      }
    });
  }
  for (auto& c : clients) c.join();
  return 0;
}

// Instances outlive the loader: each keeps its library loaded through its
// deleter, so using and destroying them after the PluginLoader is gone is
// safe (run under the asan preset to prove it), and the library is unloaded
// once the last instance is gone.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout {
namespace {

// True when `file` is currently loaded in this process (without loading it).
bool IsLoaded(const std::filesystem::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // drop the reference RTLD_NOLOAD took
  return true;
}

class RecordingHandler final : public sdk::RequestHandler {
 public:
  void OnRequest(const sdk::Request& request,
                 std::unique_ptr<sdk::Responder> responder) noexcept override {
    responder->Send({200, "text/plain", "pong:" + std::string(request.body)});
  }
};

TEST(PluginLifetimeTest, InstancesOutliveTheLoaderAndPinTheirLibrary) {
  test::CapturingLogger logger;  // outlives every instance, as the loader requires
  sdk::ConfigView::Map empty;
  const auto noop_file = test::InTreePluginFile("executor/noop");
  host::PluginPtr<sdk::Executor> executor;
  host::PluginPtr<sdk::Transport> transport;
  host::PluginPtr<sdk::Storage> storage;
  {
    host::PluginLoader loader(logger);
    for (const char* name : {"executor/noop", "transport/inproc", "storage/null"}) {
      ASSERT_TRUE(test::LoadInTreePlugin(loader, name).ok()) << name;
    }
    executor = std::move(loader.CreateExecutor("noop", {empty, "executor.noop"})).value();
    transport = std::move(loader.CreateTransport("inproc", {empty, "transport.inproc"})).value();
    storage = std::move(loader.CreateStorage("null", {empty, "storage.null"})).value();
  }  // the loader is gone; its libraries must not be

  EXPECT_TRUE(IsLoaded(noop_file));

  // Use every instance: their vtables and code live in the plugin libraries.
  ASSERT_TRUE(executor->Start().ok());
  sdk::TaskSpec task;
  task.package_name = "after-the-loader.dtsx";
  test::CollectingEventSink events;
  test::SettableCancellationToken cancel;
  auto outcome = executor->Run(task, events, cancel);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kSucceeded);
  executor->Stop();

  test::TempDir dir;
  test::WriteFile(dir / "server.id", "server");
  test::WriteFile(dir / "client.id", "client");
  ASSERT_TRUE(transport->Start().ok());
  RecordingHandler handler;
  test::AdmitAll admit_all;
  sdk::ServerOptions server_options;
  server_options.bind_address = "lifetime";
  server_options.cert_file = (dir / "server.id").string();
  auto server = transport->Listen(server_options, handler, admit_all);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  sdk::ClientOptions client_options;
  client_options.endpoint = "inproc://lifetime:" + std::to_string(server.value()->port());
  client_options.cert_file = (dir / "client.id").string();
  client_options.pinned_server_ids = {"server"};
  auto client = transport->Connect(client_options);
  ASSERT_TRUE(client.ok());
  sdk::ClientRequest request;
  request.body = "ping";
  auto response = client.value()->Call(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "pong:ping");
  server.value()->Stop();
  client.value().reset();
  server.value().reset();
  transport->Stop();

  ASSERT_TRUE(storage->Start().ok());
  EXPECT_FALSE(storage->Open().ok());
  storage->Stop();

  // Destroying the instances runs each plugin's destroy() while the library
  // is still there (ASan would report a call into unmapped code otherwise).
  executor.reset();
  transport.reset();
  storage.reset();
}

// Uses the fixture built with -fno-gnu-unique: the in-tree plugins contain
// STB_GNU_UNIQUE symbols from libstdc++, which make glibc keep them mapped
// forever, so only this one shows when the last reference really goes.
TEST(PluginLifetimeTest, TheLastInstanceOutUnloadsTheLibrary) {
  test::CapturingLogger logger;
  sdk::ConfigView::Map empty;
  const auto file = std::filesystem::path(SCALEOUT_TEST_FIXTURE_PLUGIN_DIR) / "unloadable" /
                    "libscaleout_executor_fixture_unloadable.so";
  std::optional<host::PluginLoader> loader(std::in_place, logger);
  ASSERT_TRUE(loader->LoadFile(file).ok());
  auto first = std::move(loader->CreateExecutor("fixture_unloadable", {empty, "x"})).value();
  auto second = std::move(loader->CreateExecutor("fixture_unloadable", {empty, "x"})).value();
  EXPECT_TRUE(IsLoaded(file));
  loader.reset();
  EXPECT_TRUE(IsLoaded(file)) << "two instances still need it";
  first.reset();
  EXPECT_TRUE(IsLoaded(file)) << "the second instance still needs it";
  ASSERT_TRUE(second->Start().ok());
  second.reset();
  EXPECT_FALSE(IsLoaded(file)) << "the last instance is gone, so is the library";
}

TEST(PluginLifetimeTest, DiscoveryDoesNotKeepLibrariesLoaded) {
  test::CapturingLogger logger;
  const auto dir = std::filesystem::path(SCALEOUT_TEST_FIXTURE_PLUGIN_DIR) / "unloadable";
  host::PluginLoader loader(logger);
  const auto found = loader.Discover(dir);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].loadable);
  EXPECT_FALSE(IsLoaded(found[0].file));
}

}  // namespace
}  // namespace scaleout

// WriterProbe on a real CatalogWriter (storage/sqlite): healthy while the
// writer commits, a reason once a probe waits behind a writer that hangs,
// healthy again when it moves.
#include "core/master/writer_probe.h"

#include <gtest/gtest.h>

#include <future>

#include "core/common/clock.h"
#include "host/plugin_loader.h"
#include "tests/support/test_util.h"

namespace scaleout::core::master {
namespace {

TEST(WriterProbeTest, HealthyWhileTheWriterCommitsAndSaysWhenItHangs) {
  test::CapturingLogger logger;
  test::TempDir dir;
  host::PluginLoader loader(logger);
  ASSERT_TRUE(test::LoadInTreePlugin(loader, "storage/sqlite").ok());
  sdk::ConfigView::Map values{{"path", (dir / "catalog.db").string()}};
  auto storage = loader.CreateStorage("sqlite", sdk::ConfigView(values, "storage.sqlite"));
  ASSERT_TRUE(storage.ok()) << storage.status().ToString();
  ASSERT_TRUE((*storage)->Start().ok());
  auto writer = catalog::CatalogWriter::Open(**storage);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();

  ManualClock clock;
  WriterProbe probe(**writer, clock);
  EXPECT_EQ(probe.Check(), "");  // submits the first probe
  // Its acknowledgement comes from the writer thread: wait for it.
  ASSERT_TRUE((*writer)->Execute([](sdk::Connection&) { return sdk::Status::Ok(); }).ok());
  EXPECT_EQ(probe.Check(), "") << "an acknowledged probe counts as healthy";
  // That submitted the next probe; let it be acknowledged too (acks come
  // after the commit of the whole batch, so one in the hanging op's batch
  // would wait for it).
  ASSERT_TRUE((*writer)->Execute([](sdk::Connection&) { return sdk::Status::Ok(); }).ok());

  // The writer hangs in an operation: the probe submitted behind it waits.
  std::promise<void> release;
  std::promise<void> entered;
  (*writer)->Submit(
      [&](sdk::Connection&) {
        entered.set_value();
        release.get_future().wait();
        return sdk::Status::Ok();
      },
      {});
  entered.get_future().wait();
  EXPECT_EQ(probe.Check(), "") << "the probe before the hang was acknowledged";
  clock.Advance(std::chrono::seconds(15));
  const std::string stuck = probe.Check();
  EXPECT_NE(stuck.find("has not finished a transaction submitted 15000 ms ago"), std::string::npos)
      << stuck;
  EXPECT_NE(probe.Check(), "") << "still stuck";

  release.set_value();
  ASSERT_TRUE((*writer)->Execute([](sdk::Connection&) { return sdk::Status::Ok(); }).ok());
  EXPECT_EQ(probe.Check(), "") << "the writer moved again";

  // A stopped writer refuses at once: a refusal is an answer, not a hang.
  (*writer)->Stop();
  EXPECT_EQ(probe.Check(), "");
  EXPECT_EQ(probe.Check(), "");
  (*storage)->Stop();
}

}  // namespace
}  // namespace scaleout::core::master

#include "core/worker/event_spool.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/common/ids.h"
#include "tests/support/test_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;

class EventSpoolTest : public ::testing::Test {
 protected:
  EventSpoolTest() {
    folder_ = fs::temp_directory_path() / ("scaleout-spool-" + NewGuid());
    options_.folder = folder_.string();
    options_.max_events_per_batch = 3;
    options_.max_in_memory_batches = 1;
  }

 public:
  ~EventSpoolTest() override {
    std::error_code ec;
    fs::remove_all(folder_, ec);
  }

 protected:
  std::unique_ptr<EventSpool> Open() {
    auto spool = EventSpool::Open(options_, clock_);
    EXPECT_TRUE(spool.ok()) << spool.status().ToString();
    return spool.ok() ? std::move(*spool) : nullptr;
  }

  static protocol::EventMessage Event(int n) {
    protocol::EventMessage e;
    e.execution_id = 7;
    e.task_id = "8D3F1A0C-4B7E-4F2A-9C61-0E5B2D7A9F13";
    e.message_type = 70;
    e.message_source = "stdout";
    e.message = "line " + std::to_string(n) + "\nwith \"quotes\" and \xff bytes";
    return e;
  }

  std::size_t FilesOnDisk() const {
    std::size_t n = 0;
    for (const auto& entry : fs::directory_iterator(folder_)) {
      if (entry.path().extension() == ".events") ++n;
    }
    return n;
  }

  // Ships everything the spool offers, the way the agent does; returns the
  // messages shipped.
  std::vector<std::string> ShipAll(EventSpool& spool) {
    std::vector<std::string> shipped;
    while (true) {
      auto next = spool.Next();
      EXPECT_TRUE(next.ok());
      if (!next.ok() || !*next) break;
      for (const auto& e : (*next)->events) {
        EXPECT_TRUE(guids_.insert(e.event_message_guid).second)
            << "event shipped twice: " << e.event_message_guid;
        shipped.push_back(e.message.substr(0, e.message.find('\n')));
      }
      EXPECT_TRUE(spool.Acknowledge((*next)->batch_id).ok());
    }
    return shipped;
  }

  fs::path folder_;
  EventSpoolOptions options_;
  ManualClock clock_;
  std::set<std::string> guids_;
};

TEST_F(EventSpoolTest, SealsFullBatchesAndShipsInOrder) {
  auto spool = Open();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(spool->Append(Event(i)).ok());
  EXPECT_EQ(spool->sealed_batches(), 2u);  // 3 + 3, one event still open
  EXPECT_EQ(spool->open_events(), 1u);
  ASSERT_TRUE(spool->Seal().ok());
  EXPECT_EQ(spool->sealed_batches(), 3u);
  EXPECT_EQ(FilesOnDisk(), 3u);
  auto shipped = ShipAll(*spool);
  EXPECT_EQ(shipped, (std::vector<std::string>{"line 0", "line 1", "line 2", "line 3", "line 4",
                                               "line 5", "line 6"}));
  EXPECT_EQ(FilesOnDisk(), 0u);  // acknowledged batches are deleted
}

// A worker names each event with a time-ordered GUID (version 7), so the
// catalog's unique index on it takes new events at its right edge: the GUIDs
// rise in the order the events came, also across batches and when the
// clock stands still or steps back.
TEST_F(EventSpoolTest, EventsGetRisingTimeOrderedGuids) {
  auto spool = Open();
  for (int i = 0; i < 7; ++i) {
    if (i == 4) clock_.Advance(std::chrono::milliseconds(-5000));
    ASSERT_TRUE(spool->Append(Event(i)).ok());
  }
  ASSERT_TRUE(spool->Seal().ok());
  std::vector<std::string> guids;
  while (true) {
    auto next = spool->Next();
    ASSERT_TRUE(next.ok());
    if (!*next) break;
    for (const auto& e : (*next)->events) guids.push_back(e.event_message_guid);
    ASSERT_TRUE(spool->Acknowledge((*next)->batch_id).ok());
  }
  ASSERT_EQ(guids.size(), 7u);
  for (std::size_t i = 0; i < guids.size(); ++i) {
    ASSERT_EQ(NormalizeGuid(guids[i]), guids[i]);
    EXPECT_EQ(guids[i][14], '7') << guids[i];  // the version digit
    if (i > 0) {
      EXPECT_LT(guids[i - 1], guids[i]);
    }
  }
}

TEST_F(EventSpoolTest, BatchesSurviveAReopenWithTheirIdsAndAreNotDuplicated) {
  std::vector<std::string> first_ids;
  {
    auto spool = Open();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(spool->Append(Event(i)).ok());
    // Ship and acknowledge the first batch only.
    auto first = spool->Next();
    ASSERT_TRUE(first.ok() && *first);
    for (const auto& e : (*first)->events) guids_.insert(e.event_message_guid);
    ASSERT_TRUE(spool->Acknowledge((*first)->batch_id).ok());
    // The second batch is "sent" but its answer is lost in the crash.
    auto second = spool->Next();
    ASSERT_TRUE(second.ok() && *second);
    first_ids.push_back((*second)->batch_id);
    first_ids.push_back((*second)->events.front().event_message_guid);
  }
  auto reopened = Open();
  EXPECT_EQ(reopened->sealed_batches(), 1u);
  auto again = reopened->Next();
  ASSERT_TRUE(again.ok() && *again);
  // Same batch id and event GUIDs: the master can drop the replay.
  EXPECT_EQ((*again)->batch_id, first_ids[0]);
  EXPECT_EQ((*again)->events.front().event_message_guid, first_ids[1]);
  auto shipped = ShipAll(*reopened);
  EXPECT_EQ(shipped, (std::vector<std::string>{"line 3", "line 4", "line 5"}));
  EXPECT_EQ(FilesOnDisk(), 0u);
}

// A real crash: a child process appends events and dies with _exit(), never
// sealing or shipping; the parent reopens the folder and gets them all.
TEST_F(EventSpoolTest, EventsOfAKilledProcessAreShippedAfterRestart) {
  fs::create_directories(folder_);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto spool = EventSpool::Open(options_, clock_);
    if (!spool.ok()) _exit(2);
    for (int i = 0; i < 5; ++i) {
      if (!(*spool)->Append(Event(i)).ok()) _exit(3);
    }
    // Simulate a torn write of a sixth event in the open batch.
    for (const auto& entry : fs::directory_iterator(folder_)) {
      std::ofstream(entry.path(), std::ios::app) << "{\"execution_id\": 7, \"task";
    }
    _exit(0);  // no destructor, no seal
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto spool = Open();
  EXPECT_EQ(spool->sealed_batches(), 2u);
  auto shipped = ShipAll(*spool);
  EXPECT_EQ(shipped, (std::vector<std::string>{"line 0", "line 1", "line 2", "line 3", "line 4"}));
  EXPECT_EQ(FilesOnDisk(), 0u);
}

TEST_F(EventSpoolTest, OldBatchesAreReadBackFromDisk) {
  options_.max_in_memory_batches = 1;
  auto spool = Open();
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(spool->Append(Event(i)).ok());
  EXPECT_EQ(spool->sealed_batches(), 3u);
  EXPECT_EQ(ShipAll(*spool).size(), 9u);
}

TEST_F(EventSpoolTest, RefusedBatchIsDroppedAfterRetryCount) {
  options_.retry_count = 2;
  auto spool = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool->Append(Event(i)).ok());
  auto batch = spool->Next();
  ASSERT_TRUE(batch.ok() && *batch);
  const std::string id = (*batch)->batch_id;
  EXPECT_FALSE(spool->RecordRefusal(id, "bad"));
  EXPECT_FALSE(spool->RecordRefusal(id, "bad"));
  EXPECT_TRUE(spool->RecordRefusal(id, "bad"));  // the third refusal exceeds 2 retries
  EXPECT_EQ(spool->sealed_batches(), 0u);
  EXPECT_EQ(spool->dropped_batches(), 1u);
  EXPECT_EQ(FilesOnDisk(), 0u);
}

TEST_F(EventSpoolTest, BatchOlderThanRetryTimeoutIsDropped) {
  options_.retry_timeout = std::chrono::hours(1);
  auto spool = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool->Append(Event(i)).ok());
  EXPECT_EQ(spool->DropExpired(), 0u);
  clock_.Advance(std::chrono::minutes(61));
  ASSERT_TRUE(spool->Append(Event(3)).ok());
  ASSERT_TRUE(spool->Seal().ok());
  EXPECT_EQ(spool->DropExpired(), 1u);  // the old batch; the new one stays
  EXPECT_EQ(ShipAll(*spool), (std::vector<std::string>{"line 3"}));
}

TEST_F(EventSpoolTest, EventLineRoundTrips) {
  auto e = Event(1);
  e.event_message_guid = NewGuid();
  e.message_time_ms = 123;
  e.message_source_type = 40;
  auto back = EventFromJsonLine(EventToJsonLine(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->event_message_guid, e.event_message_guid);
  EXPECT_EQ(back->execution_id, 7);
  EXPECT_EQ(back->message_time_ms, 123);
  EXPECT_EQ(back->message_source_type, 40);
  EXPECT_EQ(back->message.substr(0, 6), "line 1");
  EXPECT_EQ(EventToJsonLine(e).find('\n'), std::string::npos);
  EXPECT_FALSE(EventFromJsonLine("{\"execution_id\": 1}").ok());
}

// The line is written by hand (json_writer.h): it must read as what a json
// DOM wrote, byte for byte, for any text a package may print.
TEST_F(EventSpoolTest, EventLinesAreWhatTheDomWrote) {
  std::mt19937 random(20261206);
  auto text = [&] { return test::RandomJsonText(random); };
  for (int i = 0; i < 2000; ++i) {
    protocol::EventMessage e;
    e.execution_id = static_cast<std::int64_t>(random()) - (1LL << 30);
    e.task_id = text();
    e.event_message_guid = text();
    e.message_time_ms = static_cast<std::int64_t>(random()) * 1000;
    e.message_type = static_cast<std::int32_t>(random() % 200) - 10;
    e.message_source_type = static_cast<std::int32_t>(random() % 100);
    e.message_source = text();
    e.message = text();
    const nlohmann::json dom = {
        {"execution_id", e.execution_id}, {"task_id", e.task_id},
        {"guid", e.event_message_guid},   {"time", e.message_time_ms},
        {"type", e.message_type},         {"source_type", e.message_source_type},
        {"source", e.message_source},     {"message", e.message}};
    ASSERT_EQ(EventToJsonLine(e),
              dom.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << "event " << i;
  }
}

}  // namespace
}  // namespace scaleout::core::worker

// Record framing: round trips, partial reads, garbage.
#include "core/taskhost/records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include "tests/support/test_util.h"

namespace scaleout::core::taskhost {
namespace {

using ::testing::HasSubstr;

std::string Frame(const std::string& payload) {
  std::string frame(4, '\0');
  const auto n = static_cast<std::uint32_t>(payload.size());
  frame[0] = static_cast<char>(n >> 24);
  frame[1] = static_cast<char>(n >> 16);
  frame[2] = static_cast<char>(n >> 8);
  frame[3] = static_cast<char>(n);
  return frame + payload;
}

TEST(RecordsTest, EventsAndOutcomeRoundTripEvenOneByteAtATime) {
  const std::string stream =
      EncodeEvent({sdk::MessageType::kWarning, "stderr", "disk almost full"}) +
      EncodeEvent({sdk::MessageType::kInformation, "stdout", ""}) +
      EncodeOutcome({sdk::TaskResult::kCancelled, 143, "cancelled: package killed by signal 15"});
  RecordDecoder decoder;
  std::vector<Record> records;
  for (char c : stream) ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1), &records).ok());
  EXPECT_FALSE(decoder.HasPartialFrame());
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, Record::Kind::kEvent);
  EXPECT_EQ(records[0].event.message_type, sdk::MessageType::kWarning);
  EXPECT_EQ(records[0].event.message_source, "stderr");
  EXPECT_EQ(records[0].event.message, "disk almost full");
  EXPECT_EQ(records[1].event.message, "");
  EXPECT_EQ(records[2].kind, Record::Kind::kOutcome);
  EXPECT_EQ(records[2].outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(records[2].outcome.exit_code, 143);
  EXPECT_EQ(records[2].outcome.message, "cancelled: package killed by signal 15");
}

// A spec whose texts are all `text` (valid UTF-8 or not).
TaskHostSpec SampleSpec(const std::string& text) {
  TaskHostSpec spec;
  spec.task.execution_id = 42;
  spec.task.task_id = "t-" + text;
  spec.task.attempt = 2;
  spec.task.project_dir = "/p/" + text;
  spec.task.package_name = text + ".sh";
  spec.task.work_dir = "/w/" + text;
  spec.task.parameters = {{sdk::ParameterObjectType::kPackage, "N" + text, text, "String", true}};
  spec.executor_config = {{"k" + text, text}};
  spec.log_file = "/l/" + text;
  spec.log_level = 126;
  return spec;
}

// The frames are written by hand (json_writer.h): each must hold what a json
// DOM dumped, byte for byte, for any text a package may print.
TEST(RecordsTest, FramesAreWhatTheDomWrote) {
  std::mt19937 random(1206);
  auto text = [&] { return test::RandomJsonText(random); };
  auto dumped = [](const nlohmann::json& payload) {
    return Frame(payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  for (int i = 0; i < 2000; ++i) {
    const sdk::Event event{static_cast<sdk::MessageType>(random() % 140), text(), text()};
    ASSERT_EQ(EncodeEvent(event), dumped({{"record", "event"},
                                          {"type", static_cast<int>(event.message_type)},
                                          {"source", event.message_source},
                                          {"message", event.message}}))
        << i;
    const sdk::TaskOutcome outcome{static_cast<sdk::TaskResult>(random() % 4),
                                   static_cast<int>(random() % 300) - 150, text()};
    ASSERT_EQ(EncodeOutcome(outcome), dumped({{"record", "outcome"},
                                              {"result", static_cast<int>(outcome.result)},
                                              {"exit_code", outcome.exit_code},
                                              {"message", outcome.message}}))
        << i;
    const std::string executor = text();
    const std::string spec = SpecToJson(SampleSpec(text()));
    // The spec is spliced in as written (its keys in SpecToJson's order):
    // the same document, not the same bytes.
    const std::string request = EncodeTaskRequest(executor, spec);
    const std::string expected =
        dumped({{"record", "task"}, {"executor", executor}, {"spec", nlohmann::json::parse(spec)}});
    ASSERT_EQ(request.substr(0, 4), expected.substr(0, 4)) << i;
    ASSERT_EQ(nlohmann::json::parse(request.substr(4)), nlohmann::json::parse(expected.substr(4)))
        << i;
    const std::string task_id = text();
    ASSERT_EQ(EncodeCancelRequest(task_id), dumped({{"record", "cancel"}, {"task_id", task_id}}))
        << i;
  }
  EXPECT_EQ(EncodeRetiring(), dumped({{"record", "retiring"}}));
}

// Everything a decoded record holds, as one comparable string.
std::string Describe(const Record& r) {
  return std::to_string(static_cast<int>(r.kind)) + "|" +
         std::to_string(static_cast<int>(r.event.message_type)) + "|" + r.event.message_source +
         "|" + r.event.message + "|" + std::to_string(static_cast<int>(r.outcome.result)) + "|" +
         std::to_string(r.outcome.exit_code) + "|" + r.outcome.message + "|" + r.executor + "|" +
         (r.kind == Record::Kind::kTask ? SpecToJson(r.spec) : "") + "|" + r.spec_error + "|" +
         r.task_id;
}

// One random change to a record's document: a key dropped, a value of
// another type, an unknown key, a number out of range.
void Mutate(nlohmann::json& node, std::mt19937& random) {
  std::vector<nlohmann::json*> objects;
  std::vector<nlohmann::json*> all;
  auto walk = [&](auto& self, nlohmann::json& n) -> void {
    all.push_back(&n);
    if (n.is_object()) objects.push_back(&n);
    if (n.is_structured()) {
      for (auto& child : n) self(self, child);
    }
  };
  walk(walk, node);
  nlohmann::json& target = *all[random() % all.size()];
  switch (random() % 7) {
    case 0:
      if (auto& o = *objects[random() % objects.size()]; !o.empty()) {
        auto it = o.begin();
        std::advance(it, static_cast<long>(random() % o.size()));
        o.erase(it);
      }
      break;
    case 1: target = 7; break;
    case 2: target = "text"; break;
    case 3: target = nullptr; break;
    case 4: target = random() % 2 == 0 ? nlohmann::json(true) : nlohmann::json(2.5); break;
    case 5: (*objects[random() % objects.size()])["unknown"] = 1; break;
    case 6: target = random() % 2 == 0 ? nlohmann::json(4294967317LL) : nlohmann::json(-1); break;
  }
}

// The fast reader takes the encoders' shapes, and whatever it takes reads
// the same through the JSON document; it gives up on everything else.
TEST(RecordsTest, TheFastReaderAgreesWithTheDocumentOnEveryInput) {
  std::mt19937 random(2026);
  auto text = [&] { return test::RandomJsonText(random); };
  int taken_after_mutation = 0;
  for (int i = 0; i < 3000; ++i) {
    TaskHostSpec spec = SampleSpec(text());
    for (int p = static_cast<int>(random() % 4); p > 0; --p) {
      spec.task.parameters.push_back(
          {sdk::ParameterObjectType::kProject, text(), text(), "String", random() % 2 == 0});
    }
    if (random() % 2 == 0) spec.executor_config[text()] = text();
    const std::string frames[] = {
        EncodeEvent({static_cast<sdk::MessageType>(random() % 200), text(), text()}),
        EncodeOutcome({static_cast<sdk::TaskResult>(random() % 3),
                       static_cast<int>(random() % 300) - 150, text()}),
        EncodeTaskRequest(text(), SpecToJson(spec)), EncodeCancelRequest(text()), EncodeRetiring()};
    for (const std::string& frame : frames) {
      const std::string payload = frame.substr(4);
      Record fast;
      ASSERT_TRUE(internal::ReadRecordFast(payload, &fast)) << payload;
      std::vector<Record> slow;
      ASSERT_TRUE(internal::ReadRecordWithDocument(payload, &slow).ok()) << payload;
      ASSERT_EQ(slow.size(), 1u);
      ASSERT_EQ(Describe(fast), Describe(slow[0])) << payload;

      nlohmann::json document = nlohmann::json::parse(payload, nullptr, false);
      if (document.is_discarded()) continue;  // invalid UTF-8 replaced: not re-dumpable as is
      Mutate(document, random);
      const std::string mutated =
          document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      Record fast_mutated;
      if (!internal::ReadRecordFast(mutated, &fast_mutated)) continue;
      ++taken_after_mutation;
      std::vector<Record> slow_mutated;
      ASSERT_TRUE(internal::ReadRecordWithDocument(mutated, &slow_mutated).ok()) << mutated;
      ASSERT_EQ(slow_mutated.size(), 1u) << mutated;
      ASSERT_EQ(Describe(fast_mutated), Describe(slow_mutated[0])) << mutated;
    }
  }
  // Some changes leave a record the fast reader takes (a dropped optional
  // field, a value of the same type): those were compared above.
  EXPECT_GT(taken_after_mutation, 100);
}

// The same records as text a JSON writer other than ours might produce
// (indented, escapes for characters written raw before), and then byte-level
// damage: the fast reader takes the first and agrees with the document on
// whatever it takes of the second (a lexical slip it let through would show
// here, where document-level mutations cannot reach).
TEST(RecordsTest, TheFastReaderAgreesWithTheDocumentOnDamagedText) {
  std::mt19937 random(1206);
  auto text = [&] { return test::RandomJsonText(random); };
  const std::string pieces[] = {" ",       "\n",
                                "\t",      ",",
                                ":",       "{",
                                "}",       "[",
                                "]",       "\"",
                                "\\",      "0",
                                "-",       "01",
                                "1e3",     "2.5",
                                "\\u00e9", "\\ud83d",
                                "\\u",     "true",
                                "null",    "\xef\xbb\xbf",
                                "\xc3",    "\x01"};
  int taken_after_damage = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string frames[] = {
        EncodeEvent({static_cast<sdk::MessageType>(random() % 200), text(), text()}),
        EncodeOutcome({static_cast<sdk::TaskResult>(random() % 3),
                       static_cast<int>(random() % 300) - 150, text()}),
        EncodeTaskRequest(text(), SpecToJson(SampleSpec(text()))), EncodeCancelRequest(text())};
    for (const std::string& frame : frames) {
      const std::string payload = frame.substr(4);
      nlohmann::json document = nlohmann::json::parse(payload, nullptr, false);
      if (!document.is_discarded()) {
        const std::string indented =
            document.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
        Record fast;
        ASSERT_TRUE(internal::ReadRecordFast(indented, &fast)) << indented;
        std::vector<Record> slow;
        ASSERT_TRUE(internal::ReadRecordWithDocument(indented, &slow).ok()) << indented;
        ASSERT_EQ(Describe(fast), Describe(slow.at(0))) << indented;
      }
      std::string damaged = payload;
      for (int cuts = 1 + static_cast<int>(random() % 3); cuts > 0; --cuts) {
        const std::size_t at = random() % (damaged.size() + 1);
        switch (random() % 3) {
          case 0: damaged.insert(at, pieces[random() % std::size(pieces)]); break;
          case 1:
            if (at < damaged.size()) damaged.erase(at, 1);
            break;
          case 2:
            if (at < damaged.size()) damaged[at] = pieces[random() % std::size(pieces)][0];
            break;
        }
      }
      Record fast;
      if (!internal::ReadRecordFast(damaged, &fast)) continue;
      ++taken_after_damage;
      std::vector<Record> slow;
      ASSERT_TRUE(internal::ReadRecordWithDocument(damaged, &slow).ok()) << damaged;
      ASSERT_EQ(slow.size(), 1u) << damaged;
      ASSERT_EQ(Describe(fast), Describe(slow[0])) << damaged;
    }
  }
  // Damage inside a string's text leaves a record the fast reader takes.
  EXPECT_GT(taken_after_damage, 100);
}

// A key twice: the document keeps the last; the fast reader leaves it to it.
TEST(RecordsTest, AKeyGivenTwiceIsReadAsTheDocumentReadsIt) {
  const std::string payload = R"({"record":"cancel","task_id":"first","task_id":"last"})";
  Record fast;
  EXPECT_FALSE(internal::ReadRecordFast(payload, &fast));
  RecordDecoder decoder;
  std::vector<Record> records;
  ASSERT_TRUE(decoder.Feed(Frame(payload), &records).ok());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].task_id, "last");
}

// The spec rides as a JSON object (read once), or as a string holding one;
// a spec that does not read fails its task (spec_error), not the stream.
TEST(RecordsTest, TaskRequestsCarryTheirSpecAndABadOneFailsOnlyItsTask) {
  const TaskHostSpec sample = SampleSpec("x\"y\n\xc3\xa9");
  std::string stream = EncodeTaskRequest("executor/noop", SpecToJson(sample));
  stream +=
      Frame(nlohmann::json{{"record", "task"}, {"executor", "noop"}, {"spec", SpecToJson(sample)}}
                .dump());
  stream += EncodeTaskRequest("noop", R"({"task": {"task_id": "no execution id"}})");
  stream += EncodeCancelRequest("after");
  RecordDecoder decoder(kMaxRequestBytes);
  std::vector<Record> records;
  ASSERT_TRUE(decoder.Feed(stream, &records).ok());
  ASSERT_EQ(records.size(), 4u);
  for (int i = 0; i < 2; ++i) {
    const Record& r = records[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.kind, Record::Kind::kTask);
    EXPECT_TRUE(r.spec_error.empty()) << r.spec_error;
    EXPECT_EQ(SpecToJson(r.spec), SpecToJson(sample)) << i;
  }
  EXPECT_EQ(records[0].executor, "executor/noop");
  EXPECT_THAT(records[2].spec_error, HasSubstr("execution_id"));
  EXPECT_EQ(records[3].kind, Record::Kind::kCancel);
  EXPECT_EQ(records[3].task_id, "after");
}

TEST(RecordsTest, InvalidUtf8IsReplacedNotFatal) {
  RecordDecoder decoder;
  std::vector<Record> records;
  ASSERT_TRUE(decoder
                  .Feed(EncodeEvent({sdk::MessageType::kInformation, "stdout",
                                     "a\xff\xfe"
                                     "b"}),
                        &records)
                  .ok());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event.message,
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

TEST(RecordsTest, HugeMessagesAreCutByTheEncoder) {
  const std::string big(kMaxRecordMessageBytes + 100, 'x');
  RecordDecoder decoder;
  std::vector<Record> records;
  ASSERT_TRUE(
      decoder.Feed(EncodeEvent({sdk::MessageType::kInformation, "stdout", big}), &records).ok());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event.message.size(),
            kMaxRecordMessageBytes + std::string(" [truncated]").size());
}

TEST(RecordsTest, PartialFrameIsReportedAndCompletedLater) {
  const std::string frame = EncodeEvent({sdk::MessageType::kInformation, "stdout", "hello"});
  RecordDecoder decoder;
  std::vector<Record> records;
  ASSERT_TRUE(decoder.Feed(frame.substr(0, 7), &records).ok());
  EXPECT_TRUE(decoder.HasPartialFrame());
  EXPECT_TRUE(records.empty());
  ASSERT_TRUE(decoder.Feed(frame.substr(7), &records).ok());
  EXPECT_EQ(records.size(), 1u);
}

TEST(RecordsTest, UnknownRecordKindsAreSkipped) {
  RecordDecoder decoder;
  std::vector<Record> records;
  ASSERT_TRUE(decoder.Feed(Frame(R"({"record":"progress","percent":50})"), &records).ok());
  EXPECT_TRUE(records.empty());
}

struct Garbage {
  std::string bytes;
  std::string error;
};

class GarbageTest : public ::testing::TestWithParam<Garbage> {};

TEST_P(GarbageTest, MakesTheStreamCorruptAndStaysSo) {
  RecordDecoder decoder;
  std::vector<Record> records;
  sdk::Status status = decoder.Feed(GetParam().bytes, &records);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), sdk::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr(GetParam().error));
  // Even a good frame afterwards is refused: the framing cannot be trusted.
  EXPECT_FALSE(decoder.Feed(EncodeOutcome({}), &records).ok());
  EXPECT_TRUE(records.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Streams, GarbageTest,
    ::testing::Values(
        Garbage{"this is not a frame", "outside 1..1048576"},
        Garbage{std::string(4, '\0'), "record length 0"},
        Garbage{Frame("hello"), "not a JSON object"}, Garbage{Frame("[1,2]"), "not a JSON object"},
        Garbage{Frame(R"({"type":70})"), "lacks 'record'"},
        Garbage{Frame(R"({"record":"event","type":"x","source":"","message":""})"),
                "'type' is not an integer"},
        Garbage{Frame(R"({"record":"outcome","result":7,"exit_code":0,"message":""})"),
                "outcome result 7 is unknown"},
        Garbage{Frame(R"({"record":"outcome","result":0,"message":""})"), "lacks 'exit_code'"}));

TEST(RecordWriterTest, WritesWholeFramesAndReportsABrokenPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  RecordWriter writer(fds[1]);
  const std::string frame = EncodeOutcome({sdk::TaskResult::kSucceeded, 0, "ok"});
  ASSERT_TRUE(writer.Write(frame).ok());
  std::string read(frame.size(), '\0');
  ASSERT_EQ(::read(fds[0], read.data(), read.size()), static_cast<ssize_t>(frame.size()));
  EXPECT_EQ(read, frame);
  ::close(fds[0]);
  // Without a reader, write() fails with EPIPE (SIGPIPE is ignored here).
  struct sigaction ignore {};
  struct sigaction saved {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &saved);
  sdk::Status status = writer.Write(frame);
  ::sigaction(SIGPIPE, &saved, nullptr);
  EXPECT_EQ(status.code(), sdk::StatusCode::kUnavailable);
  ::close(fds[1]);
}

// Everything in the pipe now, without waiting.
std::string Drain(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

TEST(RecordWriterTest, HeldFramesWaitForReleaseThenGoTogether) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  ASSERT_GE(::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
  RecordWriter writer(fds[1]);
  const std::string event = EncodeEvent({sdk::MessageType::kInformation, "stdout", "hello"});
  const std::string outcome = EncodeOutcome({sdk::TaskResult::kSucceeded, 0, "ok"});
  writer.Hold();
  ASSERT_TRUE(writer.Write(event).ok());
  ASSERT_TRUE(writer.Write(outcome).ok());
  EXPECT_EQ(Drain(fds[0]), "");
  ASSERT_TRUE(writer.Release().ok());
  EXPECT_EQ(Drain(fds[0]), event + outcome);
  // Released: each frame goes at once again.
  ASSERT_TRUE(writer.Write(event).ok());
  EXPECT_EQ(Drain(fds[0]), event);
  // A task that says more than kMaxHeldRecordBytes is not held back further.
  writer.Hold();
  const std::string big = EncodeEvent(
      {sdk::MessageType::kInformation, "stdout", std::string(kMaxHeldRecordBytes / 2, 'x')});
  ASSERT_TRUE(writer.Write(big).ok());
  EXPECT_EQ(Drain(fds[0]), "");
  ASSERT_TRUE(writer.Write(big).ok());
  EXPECT_EQ(Drain(fds[0]), big + big);
  ASSERT_TRUE(writer.Write(event).ok());
  EXPECT_EQ(Drain(fds[0]), event);
  ASSERT_TRUE(writer.Release().ok());
  EXPECT_EQ(Drain(fds[0]), "");
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace scaleout::core::taskhost

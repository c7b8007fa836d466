// RunTaskHost in-process, with small executors written for the purpose: the
// records it writes to a real pipe, the task log, masking, signals.
#include "core/taskhost/task_host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/taskhost/records.h"
#include "core/taskhost/spec_file.h"
#include "core/taskhost/task_log.h"
#include "tests/plugins/executors/process/test_util.h"

namespace scaleout::core::taskhost {
namespace {

using scaleout::testing::ReadFile;
using scaleout::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecret = "hunter2-canary-7d1f";

// Does what a test tells it: emit events (unless `quiet`), then return,
// throw, or wait for cancellation. `started` is fulfilled once Run() is
// entered.
class TestExecutor final : public sdk::Executor {
 public:
  enum class Mode { kReturn, kThrow, kFailStatus, kWaitForCancel, kFailStart };
  explicit TestExecutor(Mode mode) : mode_(mode) {}
  sdk::Status Start() override {
    return mode_ == Mode::kFailStart ? sdk::Status::Unavailable("no database") : sdk::Status::Ok();
  }
  void Stop() noexcept override { stopped = true; }
  sdk::Result<sdk::TaskOutcome> Run(const sdk::TaskSpec&, sdk::EventSink& events,
                                    const sdk::CancellationToken& cancel) override {
    if (!quiet.load()) {
      events.Emit({sdk::MessageType::kInformation, "stdout", "hello"});
      events.Emit({sdk::MessageType::kDiagnostic, "executor", "verbose detail"});
      events.Emit({sdk::MessageType::kError, "stderr", std::string("password ") + kSecret});
    }
    started.set_value();
    switch (mode_) {
      case Mode::kThrow: throw std::runtime_error("boom");
      case Mode::kFailStatus: return sdk::Status::NotFound("package 'x' not found");
      case Mode::kWaitForCancel:
        while (!cancel.WaitFor(std::chrono::milliseconds(20))) {
        }
        return sdk::TaskOutcome{sdk::TaskResult::kCancelled, 143, "cancelled"};
      default: break;
    }
    return sdk::TaskOutcome{sdk::TaskResult::kFailed, 2, std::string("exit 2; secret ") + kSecret};
  }
  std::promise<void> started;
  bool stopped = false;
  std::atomic<bool> quiet{false};  // set before the task is sent

 private:
  Mode mode_;
};

class TaskHostTest : public ::testing::Test {
 protected:
  TaskHostTest() {
    Reset();
    spec_.task_id = "task-7";
    spec_.package_name = "p.sh";
    spec_.parameters = {{sdk::ParameterObjectType::kPackage, "Password", kSecret, "String", true}};
    options_.log_file = dir_ / "task.log";
    options_.executor_name = "executor/test";
  }

 public:
  ~TaskHostTest() override { ClosePipe(); }

 protected:
  // A fresh record pipe.
  void Reset() {
    ClosePipe();
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
  }
  void ClosePipe() {
    if (read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0) ::close(write_fd_);
    read_fd_ = write_fd_ = -1;
  }

  // Everything written so far (the writer must be done).
  std::vector<Record> Records() {
    ::close(write_fd_);
    write_fd_ = -1;
    std::string bytes;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(read_fd_, buffer, sizeof buffer)) > 0)
      bytes.append(buffer, static_cast<std::size_t>(n));
    RecordDecoder decoder;
    std::vector<Record> records;
    EXPECT_TRUE(decoder.Feed(bytes, &records).ok());
    return records;
  }

  TempDir dir_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  sdk::TaskSpec spec_;
  TaskHostOptions options_;
};

TEST_F(TaskHostTest, ForwardsMaskedEventsThenTheOutcomeAndWritesTheTaskLog) {
  TestExecutor executor(TestExecutor::Mode::kReturn);
  EXPECT_EQ(RunTaskHost(executor, spec_, write_fd_, options_), kTaskHostExitFailed);
  EXPECT_TRUE(executor.stopped);
  const auto records = Records();
  // LOGGING_LEVEL Basic (the default): the diagnostic stays in the host.
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].event.message, "hello");
  EXPECT_EQ(records[1].event.message, "password ***");
  ASSERT_EQ(records[2].kind, Record::Kind::kOutcome);
  EXPECT_EQ(records[2].outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(records[2].outcome.exit_code, 2);
  EXPECT_EQ(records[2].outcome.message, "exit 2; secret ***");

  const std::string log = ReadFile(options_.log_file);
  EXPECT_THAT(
      log,
      HasSubstr(
          "task task-7 attempt 1 of execution 0: package 'p.sh' with executor 'executor/test'"));
  EXPECT_THAT(log, HasSubstr("Z information stdout: hello\n"));
  EXPECT_THAT(log, HasSubstr("Z error stderr: password ***\n"));
  EXPECT_THAT(log, Not(HasSubstr("verbose detail")));  // Verbose is not in the default 126
  EXPECT_THAT(log, HasSubstr("outcome: failed (exit code 2): exit 2; secret ***"));
  EXPECT_THAT(log, Not(HasSubstr(kSecret)));
}

// Only what the execution's LOGGING_LEVEL records in the catalog crosses
// the record pipe; the outcome always does.
TEST_F(TaskHostTest, TheExecutionsLoggingLevelSelectsTheEventsSentToTheWorker) {
  const std::vector<std::pair<int, std::vector<std::string>>> cases = {
      {0, {}},                                            // None
      {1, {"hello", "password ***"}},                     // Basic
      {2, {"password ***"}},                              // Performance: errors only
      {3, {"hello", "verbose detail", "password ***"}}};  // Verbose
  for (const auto& [level, expected] : cases) {
    SCOPED_TRACE("LOGGING_LEVEL " + std::to_string(level));
    spec_.logging_level = level;
    Reset();
    TestExecutor executor(TestExecutor::Mode::kReturn);
    RunTaskHost(executor, spec_, write_fd_, options_);
    std::vector<std::string> events;
    const auto records = Records();
    for (const Record& record : records) {
      if (record.kind == Record::Kind::kEvent) events.push_back(record.event.message);
    }
    EXPECT_EQ(events, expected);
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back().kind, Record::Kind::kOutcome);
  }
}

TEST_F(TaskHostTest, TaskLogLevelSelectsWhatIsWritten) {
  options_.log_level = kTaskLogVerbose;
  TestExecutor executor(TestExecutor::Mode::kReturn);
  RunTaskHost(executor, spec_, write_fd_, options_);
  const std::string log = ReadFile(options_.log_file);
  EXPECT_THAT(log, HasSubstr("diagnostic executor: verbose detail"));
  EXPECT_THAT(log, Not(HasSubstr("stdout: hello")));
}

TEST(TaskLogTest, HeldLinesWaitForReleaseThenGoTogether) {
  TempDir dir;
  const std::string path = dir.path() + "/task.log";
  {
    TaskLog log(SystemClock::Instance());
    ASSERT_TRUE(log.Open(path, kTaskLogInformation).ok());
    log.Hold();
    log.WriteLine("header");
    log.WriteEvent({sdk::MessageType::kInformation, "stdout", "line"});
    EXPECT_EQ(ReadFile(path), "");
    log.Release();
    const std::string both = ReadFile(path);
    EXPECT_THAT(both, HasSubstr(" header\n"));
    EXPECT_THAT(both, HasSubstr(" information stdout: line\n"));
    log.WriteLine("outcome");  // released: written at once
    EXPECT_THAT(ReadFile(path), HasSubstr(" outcome\n"));
    log.Hold();
    log.WriteLine("held when the log closes");
    EXPECT_THAT(ReadFile(path), Not(HasSubstr("held when")));
  }
  EXPECT_THAT(ReadFile(path), HasSubstr(" held when the log closes\n"));
}

TEST_F(TaskHostTest, NoLogFileMeansNoTaskLog) {
  options_.log_file.clear();
  TestExecutor executor(TestExecutor::Mode::kReturn);
  RunTaskHost(executor, spec_, write_fd_, options_);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

TEST_F(TaskHostTest, AnUnwritableLogIsAWarningEventNotAFailure) {
  options_.log_file = dir_ / "missing-dir/task.log";
  TestExecutor executor(TestExecutor::Mode::kReturn);
  RunTaskHost(executor, spec_, write_fd_, options_);
  const auto records = Records();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].event.message_type, sdk::MessageType::kWarning);
  EXPECT_THAT(records[0].event.message, HasSubstr("cannot open task log"));
  EXPECT_EQ(records.back().kind, Record::Kind::kOutcome);
}

TEST_F(TaskHostTest, AnExecutorThatThrowsFailsTheTask) {
  TestExecutor executor(TestExecutor::Mode::kThrow);
  EXPECT_EQ(RunTaskHost(executor, spec_, write_fd_, options_), kTaskHostExitFailed);
  const auto records = Records();
  EXPECT_EQ(records.back().outcome.message, "executor threw: boom");
}

TEST_F(TaskHostTest, AnExecutorErrorFailsTheTaskWithItsStatus) {
  TestExecutor executor(TestExecutor::Mode::kFailStatus);
  RunTaskHost(executor, spec_, write_fd_, options_);
  EXPECT_EQ(Records().back().outcome.message, "not_found: package 'x' not found");
}

TEST_F(TaskHostTest, AnExecutorThatDoesNotStartFailsTheTask) {
  TestExecutor executor(TestExecutor::Mode::kFailStart);
  RunTaskHost(executor, spec_, write_fd_, options_);
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome.message, "executor did not start: unavailable: no database");
}

TEST_F(TaskHostTest, SigtermCancelsTheExecutorsToken) {
  TestExecutor executor(TestExecutor::Mode::kWaitForCancel);
  std::future<void> started = executor.started.get_future();
  std::thread signaller([&] {
    started.wait();  // the handlers are installed before Run() is entered
    ::kill(::getpid(), SIGTERM);
  });
  EXPECT_EQ(RunTaskHost(executor, spec_, write_fd_, options_), kTaskHostExitCancelled);
  signaller.join();
  EXPECT_EQ(Records().back().outcome.result, sdk::TaskResult::kCancelled);
  EXPECT_THAT(ReadFile(options_.log_file), HasSubstr("cancellation requested (signal 15)"));
}

TEST_F(TaskHostTest, ALostWorkerCancelsTheTask) {
  ::close(read_fd_);  // nobody will read the records, so nobody would record the result
  read_fd_ = -1;
  TestExecutor executor(TestExecutor::Mode::kWaitForCancel);
  EXPECT_EQ(RunTaskHost(executor, spec_, write_fd_, options_), kTaskHostExitCancelled);
}

TEST_F(TaskHostTest, EarlyFailuresAreReportedAsAnOutcome) {
  EXPECT_EQ(ReportTaskHostFailure(write_fd_, "task host: cannot load executor/x", options_),
            kTaskHostExitFailed);
  const auto records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome.result, sdk::TaskResult::kFailed);
  EXPECT_EQ(records[0].outcome.message, "task host: cannot load executor/x");
}

// ServeTaskHost in this process, on socket pairs: the serving thread runs
// the task, so cancel requests come on the control socket.
class ServeTaskHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int request[2];
    int control[2];
    int output[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control), 0);
    ASSERT_EQ(::pipe2(output, O_CLOEXEC), 0);
    request_fd_ = request[0];
    control_fd_ = control[0];
    output_fd_ = output[0];
    ServeOptions options = Options();
    options.handle_signals = false;
    options.control_fd = control[1];
    host_ = std::async(std::launch::async, [this, request, control, output, options] {
      const int code = ServeTaskHost(
          [this](const std::string&, const ExecutorConfig&) -> sdk::Result<sdk::Executor*> {
            return &executor_;
          },
          request[1], output[1], options);
      ::close(request[1]);
      ::close(control[1]);
      ::close(output[1]);
      return code;
    });
  }
  void TearDown() override {
    CloseFd(&request_fd_);
    CloseFd(&control_fd_);
    if (host_.valid()) host_.wait();
    CloseFd(&output_fd_);
  }
  static void CloseFd(int* fd) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  // What the host is started with (before handle_signals and control_fd).
  virtual ServeOptions Options() { return {}; }

  void Send(int fd, const std::string& frame) {
    ASSERT_EQ(::write(fd, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  }
  void SendTask(const std::string& task_id) {
    TaskHostSpec spec;
    spec.task.task_id = task_id;
    spec.task.execution_id = 1;
    spec.task.attempt = 1;
    spec.task.project_dir = dir_.path();
    spec.task.package_name = "p";
    spec.task.work_dir = dir_.path() + "/" + task_id;
    spec.log_file = spec.task.work_dir + "/task.log";
    spec.log_level = kTaskLogInformation;
    Send(request_fd_, EncodeTaskRequest("test", SpecToJson(spec)));
  }
  // Blocks until the host sends an outcome (or closes the pipe).
  std::optional<sdk::TaskOutcome> NextOutcome() {
    char buffer[4096];
    for (;;) {
      for (Record& record : pending_) {
        if (record.kind == Record::Kind::kOutcome) {
          sdk::TaskOutcome outcome = record.outcome;
          pending_.clear();
          return outcome;
        }
      }
      const ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      EXPECT_TRUE(
          decoder_.Feed(std::string_view(buffer, static_cast<std::size_t>(n)), &pending_).ok());
    }
  }

  // Reads what the host sends for up to `limit`, until a record of `kind`
  // has come; true if one has (the records read stay for NextOutcome()).
  bool RecordWithin(Record::Kind kind, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[4096];
    for (;;) {
      for (const Record& record : pending_) {
        if (record.kind == kind) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd readable{output_fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) != 1) {
        return false;
      }
      const ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
      if (n <= 0) return false;
      EXPECT_TRUE(
          decoder_.Feed(std::string_view(buffer, static_cast<std::size_t>(n)), &pending_).ok());
    }
  }
  // True once `path` holds `text`, checked for up to `limit`.
  static bool FileHoldsWithin(const std::string& path, const std::string& text,
                              std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (ReadFile(path).find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  TempDir dir_;
  TestExecutor executor_{TestExecutor::Mode::kWaitForCancel};
  int request_fd_ = -1;
  int control_fd_ = -1;
  int output_fd_ = -1;
  std::future<int> host_;
  RecordDecoder decoder_;
  std::vector<Record> pending_;
};

TEST_F(ServeTaskHostTest, ACancelOnTheControlSocketStopsTheRunningTask) {
  SendTask("task-1");
  executor_.started.get_future().wait();
  Send(control_fd_, EncodeCancelRequest("task-1"));
  const auto outcome = NextOutcome();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_THAT(ReadFile(dir_.path() + "/task-1/task.log"),
              HasSubstr("cancellation requested by the worker"));
  // The host serves on until the worker closes the request stream.
  CloseFd(&request_fd_);
  EXPECT_EQ(host_.get(), kTaskHostExitSucceeded);
}

TEST_F(ServeTaskHostTest, AClosedControlSocketCancelsTheTaskAndEndsTheHost) {
  SendTask("task-2");
  executor_.started.get_future().wait();
  CloseFd(&control_fd_);
  const auto outcome = NextOutcome();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(host_.get(), kTaskHostExitSucceeded);
}

// A control request that does not decode: the task is cancelled with the
// reason in its log, and the host ends as failed (the worker replaces it).
TEST_F(ServeTaskHostTest, AMalformedControlRequestCancelsTheTaskAndFailsTheHost) {
  SendTask("task-4");
  executor_.started.get_future().wait();
  const std::string garbage = "not a record";
  std::string frame(4, '\0');
  frame[3] = static_cast<char>(garbage.size());
  Send(control_fd_, frame + garbage);
  const auto outcome = NextOutcome();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(host_.get(), kTaskHostExitFailed);
  EXPECT_THAT(ReadFile(dir_.path() + "/task-4/task.log"),
              HasSubstr("a request on the control socket does not read (record is not a JSON "
                        "object); cancelling the task"));
}

TEST_F(ServeTaskHostTest, AClosedRequestStreamCancelsTheRunningTask) {
  SendTask("task-3");
  executor_.started.get_future().wait();
  CloseFd(&request_fd_);
  const auto outcome = NextOutcome();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  EXPECT_EQ(host_.get(), kTaskHostExitSucceeded);
}

// The hold times of ServeOptions, one short and the other an hour: the long
// one must not be what releases the task's output in these tests.
class ServeTaskHostHoldTest : public ServeTaskHostTest {
 protected:
  static constexpr std::chrono::milliseconds kLong{3'600'000};
  static constexpr std::chrono::milliseconds kPatience{10'000};
  ServeTaskHostHoldTest(std::chrono::milliseconds event_hold, std::chrono::milliseconds log_hold)
      : event_hold_(event_hold), log_hold_(log_hold) {}
  ServeOptions Options() override {
    ServeOptions options;
    options.event_hold = event_hold_;
    options.log_hold = log_hold_;
    return options;
  }
  void Cancel(const std::string& task_id) {
    Send(control_fd_, EncodeCancelRequest(task_id));
    const auto outcome = NextOutcome();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->result, sdk::TaskResult::kCancelled);
  }

 private:
  const std::chrono::milliseconds event_hold_;
  const std::chrono::milliseconds log_hold_;
};

class ServeTaskHostShortEventHoldTest : public ServeTaskHostHoldTest {
 protected:
  ServeTaskHostShortEventHoldTest() : ServeTaskHostHoldTest(std::chrono::milliseconds(10), kLong) {}
};

class ServeTaskHostShortLogHoldTest : public ServeTaskHostHoldTest {
 protected:
  ServeTaskHostShortLogHoldTest() : ServeTaskHostHoldTest(kLong, std::chrono::milliseconds(30)) {}
};

// Events a long task sends go out the event hold after the first of them,
// with the log lines held so far, though the log's hold is an hour.
TEST_F(ServeTaskHostShortEventHoldTest, ATasksEventsGoOutWhileItRuns) {
  SendTask("task-e");
  executor_.started.get_future().wait();
  ASSERT_TRUE(RecordWithin(Record::Kind::kEvent, kPatience));
  EXPECT_FALSE(RecordWithin(Record::Kind::kOutcome, std::chrono::milliseconds(0)));
  // The log's lines go out just after the events (the watcher releases
  // the record stream first), so they may take a moment more.
  EXPECT_TRUE(FileHoldsWithin(dir_.path() + "/task-e/task.log", "hello", kPatience));
  Cancel("task-e");
}

// A task that sends no event holds only its log lines: the event hold (10
// ms) does not release them, so a quiet task's header costs no write while
// it runs; they go with its end.
TEST_F(ServeTaskHostShortEventHoldTest, AQuietTasksLogLinesWaitForTheLogHold) {
  executor_.quiet = true;
  SendTask("task-q");
  executor_.started.get_future().wait();
  const std::string log = dir_.path() + "/task-q/task.log";
  EXPECT_FALSE(FileHoldsWithin(log, "task task-q attempt 1", std::chrono::milliseconds(200)));
  Cancel("task-q");
  EXPECT_THAT(ReadFile(log), HasSubstr("task task-q attempt 1"));
}

// Once the log hold is up, a quiet task's log lines are written while it
// still runs.
TEST_F(ServeTaskHostShortLogHoldTest, AQuietTasksLogLinesAreWrittenWhenTheLogHoldIsUp) {
  executor_.quiet = true;
  SendTask("task-l");
  executor_.started.get_future().wait();
  EXPECT_TRUE(
      FileHoldsWithin(dir_.path() + "/task-l/task.log", "task task-l attempt 1", kPatience));
  EXPECT_FALSE(RecordWithin(Record::Kind::kOutcome, std::chrono::milliseconds(0)));
  Cancel("task-l");
}

}  // namespace
}  // namespace scaleout::core::taskhost

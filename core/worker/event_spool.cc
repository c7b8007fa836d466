#include "core/worker/event_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/common/ids.h"
#include "core/common/json_writer.h"
#include "core/worker/fs_util.h"

namespace scaleout::core::worker {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sdk::Status;

constexpr std::string_view kSuffix = ".events";

// "<sequence, 16 digits>-<created unix ms>-<batch GUID>.events": the
// sequence orders batches (it continues after a restart), the time ages them.
std::string FileName(std::uint64_t sequence, std::int64_t created_ms, const std::string& batch_id) {
  char prefix[64];
  std::snprintf(prefix, sizeof(prefix), "%016llu-%lld-", static_cast<unsigned long long>(sequence),
                static_cast<long long>(created_ms));
  return prefix + batch_id + std::string(kSuffix);
}

Status WriteAll(int fd, std::string_view bytes, const std::string& file) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status::Unavailable("cannot write the event spool file " + file + ": " +
                                 std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Parses a spool file; a torn last line (a crash in the middle of a write)
// is dropped, any other bad line is skipped with a warning.
std::vector<protocol::EventMessage> ParseSpoolFile(const std::string& text,
                                                   const std::string& file) {
  std::vector<protocol::EventMessage> events;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t newline = text.find('\n', start);
    if (newline == std::string::npos) {
      spdlog::warn("event spool {}: dropping a torn last line ({} bytes) left by a crash", file,
                   text.size() - start);
      break;
    }
    auto event = EventFromJsonLine(std::string_view(text).substr(start, newline - start));
    if (event.ok()) {
      events.push_back(std::move(*event));
    } else {
      spdlog::warn("event spool {}: skipping a bad line: {}", file, event.status().message());
    }
    start = newline + 1;
  }
  return events;
}

}  // namespace

// Written directly (json_writer.h): one line per event, on the path of
// every task. Package output is arbitrary bytes: invalid UTF-8 is replaced.
std::string EventToJsonLine(const protocol::EventMessage& e) {
  std::string line;
  line.reserve(160 + e.message.size() + e.message_source.size());
  JsonWriter w(line);
  w.Begin('{');
  w.Int("execution_id", e.execution_id);
  w.Text("guid", e.event_message_guid);
  w.Text("message", e.message);
  w.Text("source", e.message_source);
  w.Int("source_type", e.message_source_type);
  w.Text("task_id", e.task_id);
  w.Int("time", e.message_time_ms);
  w.Int("type", e.message_type);
  w.End('}');
  return line;
}

sdk::Result<protocol::EventMessage> EventFromJsonLine(std::string_view line) {
  try {
    const json j = json::parse(line);
    protocol::EventMessage e;
    e.execution_id = j.at("execution_id").get<std::int64_t>();
    e.task_id = j.at("task_id").get<std::string>();
    e.event_message_guid = j.at("guid").get<std::string>();
    e.message_time_ms = j.at("time").get<std::int64_t>();
    e.message_type = j.at("type").get<std::int32_t>();
    e.message_source_type = j.value("source_type", 0);
    e.message_source = j.value("source", std::string());
    e.message = j.value("message", std::string());
    return e;
  } catch (const json::exception& ex) {
    return Status::DataLoss(std::string("bad event line: ") + ex.what());
  }
}

EventSpool::EventSpool(EventSpoolOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

EventSpool::~EventSpool() {
  std::lock_guard lock(mutex_);
  // Seal what is open so a clean stop leaves complete, synced batches.
  (void)SealLocked();
}

sdk::Result<std::unique_ptr<EventSpool>> EventSpool::Open(const EventSpoolOptions& options,
                                                          Clock& clock) {
  if (options.folder.empty()) {
    return Status::InvalidArgument("'ExecutionLogCacheFolder' is empty");
  }
  std::error_code ec;
  fs::create_directories(options.folder, ec);
  if (ec) {
    return Status::FailedPrecondition("cannot create 'ExecutionLogCacheFolder' " + options.folder +
                                      ": " + ec.message());
  }
  std::unique_ptr<EventSpool> spool(new EventSpool(options, clock));
  SCALEOUT_RETURN_IF_ERROR(spool->LoadExisting());
  return spool;
}

Status EventSpool::LoadExisting() {
  std::vector<fs::path> files;
  std::error_code ec;
  // increment(ec), not a range-for: its increment throws on an I/O error.
  for (fs::directory_iterator it(options_.folder, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (name.size() > kSuffix.size() &&
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
      files.push_back(entry.path());
    }
  }
  if (ec) return Status::Unavailable("cannot list " + options_.folder + ": " + ec.message());
  std::sort(files.begin(), files.end());  // the sequence prefix orders them oldest first
  std::lock_guard lock(mutex_);
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    const std::string stem = name.substr(0, name.size() - kSuffix.size());
    const auto dash1 = stem.find('-');
    const auto dash2 = dash1 == std::string::npos ? dash1 : stem.find('-', dash1 + 1);
    auto guid = dash2 == std::string::npos ? std::nullopt : NormalizeGuid(stem.substr(dash2 + 1));
    if (!guid) {
      spdlog::warn("event spool: ignoring {} (not <sequence>-<time>-<guid>.events)", file.string());
      continue;
    }
    next_sequence_ =
        std::max<std::uint64_t>(next_sequence_, std::strtoull(stem.c_str(), nullptr, 10) + 1);
    SCALEOUT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(file));
    Sealed batch;
    batch.batch_id = *guid;
    batch.file = file.string();
    batch.created_ms = std::atoll(stem.substr(dash1 + 1, dash2 - dash1 - 1).c_str());
    auto events = ParseSpoolFile(text, file.string());
    if (events.empty()) {
      fs::remove(file, ec);
      continue;
    }
    batch.events = std::move(events);
    sealed_.push_back(std::move(batch));
  }
  if (!sealed_.empty()) {
    spdlog::info("event spool: {} batch(es) left by an earlier run will be shipped first",
                 sealed_.size());
  }
  TrimMemoryLocked();
  return Status::Ok();
}

Status EventSpool::StartOpenBatchLocked() {
  open_id_ = NewGuid();
  open_created_ms_ = clock_.NowUnixMillis();
  open_file_ =
      (fs::path(options_.folder) / FileName(next_sequence_++, open_created_ms_, open_id_)).string();
  fd_ = ::open(open_file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return Status::Unavailable("cannot create the event spool file " + open_file_ + ": " +
                               std::strerror(errno) + "; check 'ExecutionLogCacheFolder'");
  }
  return Status::Ok();
}

Status EventSpool::Append(protocol::EventMessage event) {
  const std::int64_t now_ms = clock_.NowUnixMillis();
  if (event.message_time_ms == 0) event.message_time_ms = now_ms;
  // Time-ordered: the catalog's unique index on the GUID then takes each
  // batch's events at its right edge, not one random page per event.
  if (event.event_message_guid.empty()) event.event_message_guid = NewTimeOrderedGuid(now_ms);
  std::lock_guard lock(mutex_);
  if (fd_ < 0) SCALEOUT_RETURN_IF_ERROR(StartOpenBatchLocked());
  const std::string line = EventToJsonLine(event) + "\n";
  SCALEOUT_RETURN_IF_ERROR(WriteAll(fd_, line, open_file_));
  open_bytes_ += line.size();
  open_events_.push_back(std::move(event));
  if (open_events_.size() >= options_.max_events_per_batch ||
      open_bytes_ >= options_.max_batch_bytes) {
    return SealLocked();
  }
  return Status::Ok();
}

Status EventSpool::Seal() {
  std::lock_guard lock(mutex_);
  return SealLocked();
}

Status EventSpool::SealLocked() {
  if (fd_ < 0) return Status::Ok();
  Status status;
  if (::fsync(fd_) != 0) {
    status = Status::Unavailable("cannot fsync " + open_file_ + ": " + std::strerror(errno));
  }
  ::close(fd_);
  fd_ = -1;
  if (status.ok()) status = SyncDirectory(options_.folder);
  Sealed batch;
  batch.batch_id = open_id_;
  batch.file = open_file_;
  batch.created_ms = open_created_ms_;
  batch.events = std::move(open_events_);
  open_events_.clear();
  open_bytes_ = 0;
  sealed_.push_back(std::move(batch));
  TrimMemoryLocked();
  return status;
}

void EventSpool::TrimMemoryLocked() {
  std::size_t in_memory = 0;
  // Keep the newest batches in memory (they were just written); the oldest
  // are the next to ship, but reading one file back is cheap.
  for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) {
    if (!it->events) continue;
    if (++in_memory > options_.max_in_memory_batches) it->events.reset();
  }
}

sdk::Result<std::optional<EventBatch>> EventSpool::Next() {
  std::lock_guard lock(mutex_);
  while (!sealed_.empty()) {
    Sealed& first = sealed_.front();
    if (!first.events) {
      auto text = ReadWholeFile(first.file);
      if (!text.ok()) {
        spdlog::error("event spool: batch {} vanished from disk ({}); its events are lost",
                      first.batch_id, text.status().message());
        ++dropped_;
        sealed_.pop_front();
        continue;
      }
      first.events = ParseSpoolFile(*text, first.file);
    }
    return std::optional<EventBatch>(EventBatch{first.batch_id, *first.events});
  }
  return std::optional<EventBatch>();
}

Status EventSpool::Acknowledge(const std::string& batch_id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(sealed_.begin(), sealed_.end(),
                         [&](const Sealed& s) { return s.batch_id == batch_id; });
  if (it == sealed_.end()) return Status::NotFound("no spooled batch " + batch_id);
  const std::string file = it->file;
  sealed_.erase(it);
  std::error_code ec;
  fs::remove(file, ec);
  if (ec) return Status::Unavailable("cannot delete " + file + ": " + ec.message());
  return Status::Ok();
}

void EventSpool::DropLocked(const std::deque<Sealed>::iterator& it, const std::string& why) {
  spdlog::error("event spool: dropping batch {} ({} events): {}", it->batch_id,
                it->events ? it->events->size() : 0, why);
  std::error_code ec;
  fs::remove(it->file, ec);
  sealed_.erase(it);
  ++dropped_;
}

bool EventSpool::RecordRefusal(const std::string& batch_id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(sealed_.begin(), sealed_.end(),
                         [&](const Sealed& s) { return s.batch_id == batch_id; });
  if (it == sealed_.end()) return false;
  ++it->refusals;
  if (it->refusals > options_.retry_count) {
    DropLocked(it, "the master refused it " + std::to_string(it->refusals) +
                       " times (ExecutionLogRetryCount " + std::to_string(options_.retry_count) +
                       "); last: " + reason);
    return true;
  }
  if (clock_.NowUnixMillis() - it->created_ms > options_.retry_timeout.count()) {
    DropLocked(it, "older than ExecutionLogRetryTimeout; last refusal: " + reason);
    return true;
  }
  return false;
}

std::size_t EventSpool::DropExpired() {
  std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  const std::int64_t now = clock_.NowUnixMillis();
  // Batches are ordered oldest first, so the expired ones are at the front.
  while (!sealed_.empty() && now - sealed_.front().created_ms > options_.retry_timeout.count()) {
    DropLocked(sealed_.begin(), "older than ExecutionLogRetryTimeout");
    ++dropped;
  }
  return dropped;
}

std::size_t EventSpool::sealed_batches() const {
  std::lock_guard lock(mutex_);
  return sealed_.size();
}

std::size_t EventSpool::open_events() const {
  std::lock_guard lock(mutex_);
  return open_events_.size();
}

std::uint64_t EventSpool::dropped_batches() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace scaleout::core::worker

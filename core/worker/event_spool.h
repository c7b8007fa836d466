// EventSpool: execution events on their way to the master, kept on disk so
// a worker crash loses none (SSIS ExecutionLogCacheFolder).
//
// Layout: one append-only file per batch in the cache folder,
//   <sequence, 16 digits>-<created unix ms>-<batch GUID>.events
// holding one JSON object per line (an EventMessage). Append() writes each
// event to the open batch's file as it arrives (so a killed worker process
// loses nothing: the bytes are in the kernel); Seal() fsyncs the file and its
// folder (so power loss loses nothing sealed: "fsync per batch"). A batch is
// sealed when it reaches ExecutionLogMaxBufferLogCount events or when the
// shipper asks. The file is deleted once the master acknowledges the batch.
//
// After a crash, Open() finds every file, drops a torn last line, and offers
// the batches again, oldest first, under their original batch GUID and
// event GUIDs: the master records a batch id once, so a batch shipped just
// before the crash is not recorded twice.
//
// Memory: the events of at most ExecutionLogMaxInMemoryBufferCount sealed
// batches stay in memory; older ones are read back from their file.
//
// Giving up (SSIS ExecutionLogRetryCount / ExecutionLogRetryTimeout): only a
// *refusal* by the master counts as a failed try (an unreachable master does
// not: the batch waits on disk). A batch is dropped, with an error in the
// log, once refused more than ExecutionLogRetryCount times, or once older
// than ExecutionLogRetryTimeout whatever the count.
//
// Thread-safety: every method is safe from any thread (one mutex).
#ifndef SCALEOUT_CORE_WORKER_EVENT_SPOOL_H_
#define SCALEOUT_CORE_WORKER_EVENT_SPOOL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/protocol/messages.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::worker {

struct EventSpoolOptions {
  std::string folder;                         // ExecutionLogCacheFolder; created if missing
  std::size_t max_events_per_batch = 10'000;  // ExecutionLogMaxBufferLogCount
  std::size_t max_in_memory_batches = 10;     // ExecutionLogMaxInMemoryBufferCount
  // A batch is also sealed at this size, so one ReportEvents message stays
  // well under the protocol's 8 MiB limit.
  std::size_t max_batch_bytes = 4u << 20;
  int retry_count = 3;                                              // ExecutionLogRetryCount
  std::chrono::milliseconds retry_timeout{7LL * 24 * 3600 * 1000};  // ExecutionLogRetryTimeout
};

struct EventBatch {
  std::string batch_id;  // GUID
  std::vector<protocol::EventMessage> events;
};

class EventSpool {
 public:
  // Opens (and creates) the folder and loads batches left by an earlier run.
  // `clock` must outlive the spool.
  static sdk::Result<std::unique_ptr<EventSpool>> Open(const EventSpoolOptions& options,
                                                       Clock& clock);
  ~EventSpool();
  EventSpool(const EventSpool&) = delete;
  EventSpool& operator=(const EventSpool&) = delete;

  // Adds one event to the open batch (assigning an event_message_guid and a
  // time when empty) and writes it to the batch's file. Seals the batch when
  // it is full. kUnavailable when the disk refused (the event is then lost,
  // and the message says why).
  sdk::Status Append(protocol::EventMessage event);

  // Seals the open batch if it holds any event (fsync). Idempotent.
  sdk::Status Seal();

  // The oldest sealed batch, or nullopt when none is waiting. Does not
  // remove it: call Acknowledge() or RecordRefusal() afterwards.
  sdk::Result<std::optional<EventBatch>> Next();

  // The master recorded the batch: forget it and delete its file.
  sdk::Status Acknowledge(const std::string& batch_id);

  // The master refused the batch (a decode or validation error, not an
  // unreachable master). Returns true when the batch was dropped for good.
  bool RecordRefusal(const std::string& batch_id, const std::string& reason);

  // Drops every sealed batch older than the retry timeout. Returns how many.
  std::size_t DropExpired();

  std::size_t sealed_batches() const;
  std::size_t open_events() const;
  std::uint64_t dropped_batches() const;

 private:
  struct Sealed {
    std::string batch_id;
    std::string file;
    std::int64_t created_ms = 0;
    int refusals = 0;
    std::optional<std::vector<protocol::EventMessage>> events;  // nullopt: on disk only
  };

  EventSpool(EventSpoolOptions options, Clock& clock);
  sdk::Status LoadExisting();
  sdk::Status StartOpenBatchLocked();
  sdk::Status SealLocked();
  void TrimMemoryLocked();
  void DropLocked(const std::deque<Sealed>::iterator& it, const std::string& why);

  const EventSpoolOptions options_;
  Clock& clock_;

  mutable std::mutex mutex_;
  // The open batch; fd_ < 0 when none is open.
  int fd_ = -1;
  std::string open_id_;
  std::string open_file_;
  std::int64_t open_created_ms_ = 0;
  std::vector<protocol::EventMessage> open_events_;
  std::size_t open_bytes_ = 0;
  std::deque<Sealed> sealed_;  // oldest first
  std::uint64_t dropped_ = 0;
  std::uint64_t next_sequence_ = 1;  // continues after the highest one found on disk
};

// One event as one line of the spool file (no trailing newline), and back.
std::string EventToJsonLine(const protocol::EventMessage& event);
sdk::Result<protocol::EventMessage> EventFromJsonLine(std::string_view line);

}  // namespace scaleout::core::worker

#endif  // SCALEOUT_CORE_WORKER_EVENT_SPOOL_H_

// Records: what the task host tells the launcher, over the child's stdout.
//
// A stream of frames; each frame is a 4-byte big-endian payload length
// followed by that many bytes of JSON, one object per frame:
//   {"record":"event","type":70,"source":"stdout","message":"..."}
//   {"record":"outcome","result":0,"exit_code":0,"message":"..."}
// A pooled task host (`scaleout task-host --serve`) reads the same frames on
// its stdin, sent by the worker:
//   {"record":"task","executor":"process","spec":{<spec_file.h JSON object>}}
// (the spec spliced in as an object, not quoted as a string, so that it is
// neither escaped nor parsed twice; a string holding it is accepted too)
// and, on its control socket (`--control-fd`, read while a task runs):
//   {"record":"cancel","task_id":"..."}
// and, before an outcome after which it will exit (it could not clean up
// after the task, or it is stopping), tells the worker not to reuse it:
//   {"record":"retiring"}
// `type` is an SSIS message_type, `result` a sdk::TaskResult. Objects with an
// unknown "record" are skipped (a newer task host may send more); anything
// else that does not decode (a zero or oversized length, bad JSON, a missing
// field) makes the stream corrupt, and the decoder says why.
//
// JSON because it is trivial to debug with `od`, and because package output
// is arbitrary bytes: invalid UTF-8 is replaced (U+FFFD) on encoding.
//
// Thread-safety: EncodeX are pure functions. A RecordDecoder belongs to one
// thread. RecordWriter::Write may be called from any thread.
#ifndef SCALEOUT_CORE_TASKHOST_RECORDS_H_
#define SCALEOUT_CORE_TASKHOST_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/taskhost/held_bytes.h"
#include "core/taskhost/spec_file.h"
#include "scaleout/sdk/executor.h"
#include "scaleout/sdk/status.h"

namespace scaleout::core::taskhost {

// Largest payload a decoder accepts. Event messages longer than
// kMaxRecordMessageBytes are cut by the encoder, so real records stay far below.
inline constexpr std::size_t kMaxRecordBytes = 1u << 20;
inline constexpr std::size_t kMaxRecordMessageBytes = 256u << 10;

// Most bytes a RecordWriter holds back (see Hold()).
inline constexpr std::size_t kMaxHeldRecordBytes = 64u << 10;

// Largest request frame (a task with its parameters) a pooled host accepts.
inline constexpr std::size_t kMaxRequestBytes = 17u << 20;

struct Record {
  enum class Kind { kEvent, kOutcome, kTask, kCancel, kRetiring };
  Kind kind = Kind::kEvent;
  sdk::Event event;          // when kind == kEvent
  sdk::TaskOutcome outcome;  // when kind == kOutcome
  std::string executor;      // when kind == kTask
  TaskHostSpec spec;         // when kind == kTask and spec_error is empty
  std::string spec_error;    // when kind == kTask: why the spec does not read
  std::string task_id;       // when kind == kCancel
};

// Whole frames (length prefix included), ready to write.
std::string EncodeEvent(const sdk::Event& event);
std::string EncodeOutcome(const sdk::TaskOutcome& outcome);
// Requests to a pooled task host. `spec_json` must be a JSON object's text
// (SpecToJson's); it is spliced in whole, not cut (it is bounded by
// kMaxRequestBytes on decoding).
std::string EncodeTaskRequest(std::string_view executor, std::string_view spec_json);
std::string EncodeCancelRequest(std::string_view task_id);
std::string EncodeRetiring();

// Reassembles frames from arbitrary chunks (partial reads are normal).
class RecordDecoder {
 public:
  explicit RecordDecoder(std::size_t max_record_bytes = kMaxRecordBytes)
      : max_record_bytes_(max_record_bytes) {}
  // Appends `bytes` and moves every complete record to `out`. After the
  // first error (kDataLoss, naming what was wrong) the decoder stays failed.
  sdk::Status Feed(std::string_view bytes, std::vector<Record>* out);
  // True when bytes of an incomplete frame are buffered (the writer died
  // in the middle of a frame).
  bool HasPartialFrame() const { return !buffer_.empty(); }

 private:
  sdk::Status DecodePayload(std::string_view payload, std::vector<Record>* out);

  std::size_t max_record_bytes_;
  std::string buffer_;
  sdk::Status failed_;
};

// Writes frames to a file descriptor it does not own, whole frames at a time.
class RecordWriter {
 public:
  explicit RecordWriter(int fd) : fd_(fd) {}
  // kUnavailable when the reader has gone (EPIPE) or the write failed.
  sdk::Status Write(std::string_view frame);
  // Frames written after Hold() stay in memory (Write says Ok) until
  // Release(), which writes them in one write() and goes back to writing
  // each frame at once: a short task's events and outcome then wake the
  // reader once. Release() reports a failed write.
  void Hold();
  sdk::Status Release();

 private:
  sdk::Status WriteLocked(std::string_view bytes);  // REQUIRES: mutex_ held

  std::mutex mutex_;
  int fd_;
  HeldBytes held_{kMaxHeldRecordBytes};  // guarded by mutex_
};

// The two ways RecordDecoder reads one frame's payload, exposed for tests.
namespace internal {
// Straight from the text, no JSON document: true for a record of a known
// kind in exactly the shape the encoders write; false for anything else.
bool ReadRecordFast(std::string_view payload, Record* record);
// Through a JSON document: every input, with the errors' wording; appends
// nothing for an unknown kind (a newer task host's record).
sdk::Status ReadRecordWithDocument(std::string_view payload, std::vector<Record>* out);
}  // namespace internal

}  // namespace scaleout::core::taskhost

#endif  // SCALEOUT_CORE_TASKHOST_RECORDS_H_

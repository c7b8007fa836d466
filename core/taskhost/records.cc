#include "core/taskhost/records.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/common/json_writer.h"

namespace scaleout::core::taskhost {
namespace {

using nlohmann::json;

// Writes one frame: the body `write` produces, behind its 4-byte length.
// Bodies are written directly (json_writer.h), keys in the order a json
// DOM dumps them: three of them per task cross the pipe.
template <typename Body>
std::string Frame(Body write) {
  std::string frame(4, '\0');
  JsonWriter w(frame);
  w.Begin('{');
  write(w);
  w.End('}');
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  frame[0] = static_cast<char>((size >> 24) & 0xFF);
  frame[1] = static_cast<char>((size >> 16) & 0xFF);
  frame[2] = static_cast<char>((size >> 8) & 0xFF);
  frame[3] = static_cast<char>(size & 0xFF);
  return frame;
}

// `message`, or its first kMaxRecordMessageBytes bytes marked as cut (kept
// in `cut`, which must outlive the returned view).
std::string_view Bounded(std::string_view message, std::string& cut) {
  if (message.size() <= kMaxRecordMessageBytes) return message;
  cut.assign(message.substr(0, kMaxRecordMessageBytes));
  cut += " [truncated]";
  return cut;
}

std::uint32_t ReadLength(std::string_view bytes) {
  auto b = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// Reads a field of the expected JSON type; kDataLoss naming it otherwise.
template <typename T>
sdk::Status Field(const json& object, const char* name, T* out) {
  auto it = object.find(name);
  if (it == object.end()) return sdk::Status::DataLoss(std::string("record lacks '") + name + "'");
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string())
      return sdk::Status::DataLoss(std::string("'") + name + "' is not a string");
  } else {
    if (!it->is_number_integer()) {
      return sdk::Status::DataLoss(std::string("'") + name + "' is not an integer");
    }
  }
  *out = it->get<T>();
  return sdk::Status::Ok();
}

}  // namespace

std::string EncodeEvent(const sdk::Event& event) {
  std::string cut_message;
  std::string cut_source;
  return Frame([&](JsonWriter& w) {
    w.Text("message", Bounded(event.message, cut_message));
    w.Text("record", "event");
    w.Text("source", Bounded(event.message_source, cut_source));
    w.Int("type", static_cast<int>(event.message_type));
  });
}

std::string EncodeOutcome(const sdk::TaskOutcome& outcome) {
  std::string cut;
  return Frame([&](JsonWriter& w) {
    w.Int("exit_code", outcome.exit_code);
    w.Text("message", Bounded(outcome.message, cut));
    w.Text("record", "outcome");
    w.Int("result", static_cast<int>(outcome.result));
  });
}

std::string EncodeTaskRequest(std::string_view executor, std::string_view spec_json) {
  return Frame([&](JsonWriter& w) {
    w.Text("executor", executor);
    w.Text("record", "task");
    w.Key("spec");
    w.Raw(spec_json);
  });
}

std::string EncodeCancelRequest(std::string_view task_id) {
  return Frame([&](JsonWriter& w) {
    w.Text("record", "cancel");
    w.Text("task_id", task_id);
  });
}

std::string EncodeRetiring() {
  return Frame([](JsonWriter& w) { w.Text("record", "retiring"); });
}

sdk::Status RecordDecoder::Feed(std::string_view bytes, std::vector<Record>* out) {
  if (!failed_.ok()) return failed_;
  buffer_.append(bytes);
  std::size_t pos = 0;
  sdk::Status status;
  while (status.ok() && buffer_.size() - pos >= 4) {
    const std::uint32_t length = ReadLength(std::string_view(buffer_).substr(pos, 4));
    if (length == 0 || length > max_record_bytes_) {
      status = sdk::Status::DataLoss("record length " + std::to_string(length) + " is outside 1.." +
                                     std::to_string(max_record_bytes_));
      break;
    }
    if (buffer_.size() - pos - 4 < length) break;  // wait for the rest
    status = DecodePayload(std::string_view(buffer_).substr(pos + 4, length), out);
    pos += 4 + length;
  }
  buffer_.erase(0, pos);
  if (!status.ok()) {
    failed_ = status;
    buffer_.clear();
  }
  return status;
}

sdk::Status RecordDecoder::DecodePayload(std::string_view payload, std::vector<Record>* out) {
  json object = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return sdk::Status::DataLoss("record is not a JSON object");
  }
  std::string kind;
  SCALEOUT_RETURN_IF_ERROR(Field(object, "record", &kind));
  Record record;
  if (kind == "event") {
    int type = 0;
    record.kind = Record::Kind::kEvent;
    SCALEOUT_RETURN_IF_ERROR(Field(object, "type", &type));
    SCALEOUT_RETURN_IF_ERROR(Field(object, "source", &record.event.message_source));
    SCALEOUT_RETURN_IF_ERROR(Field(object, "message", &record.event.message));
    record.event.message_type = static_cast<sdk::MessageType>(type);
  } else if (kind == "outcome") {
    int result = 0;
    record.kind = Record::Kind::kOutcome;
    SCALEOUT_RETURN_IF_ERROR(Field(object, "result", &result));
    SCALEOUT_RETURN_IF_ERROR(Field(object, "exit_code", &record.outcome.exit_code));
    SCALEOUT_RETURN_IF_ERROR(Field(object, "message", &record.outcome.message));
    if (result < 0 || result > static_cast<int>(sdk::TaskResult::kCancelled)) {
      return sdk::Status::DataLoss("outcome result " + std::to_string(result) + " is unknown");
    }
    record.outcome.result = static_cast<sdk::TaskResult>(result);
  } else if (kind == "task") {
    record.kind = Record::Kind::kTask;
    SCALEOUT_RETURN_IF_ERROR(Field(object, "executor", &record.executor));
    auto spec = object.find("spec");
    if (spec == object.end()) return sdk::Status::DataLoss("record lacks 'spec'");
    // A spec that does not read fails its task, not the stream.
    auto parsed = spec->is_string() ? SpecFromJson(spec->get_ref<const std::string&>())
                                    : SpecFromJsonValue(*spec);
    if (parsed.ok()) {
      record.spec = std::move(*parsed);
    } else {
      record.spec_error = parsed.status().ToString();
    }
  } else if (kind == "cancel") {
    record.kind = Record::Kind::kCancel;
    SCALEOUT_RETURN_IF_ERROR(Field(object, "task_id", &record.task_id));
  } else if (kind == "retiring") {
    record.kind = Record::Kind::kRetiring;
  } else {
    return sdk::Status::Ok();  // a newer task host's record: skip it
  }
  out->push_back(std::move(record));
  return sdk::Status::Ok();
}

sdk::Status RecordWriter::Write(std::string_view frame) {
  std::lock_guard lock(mutex_);
  while (!frame.empty()) {
    const ssize_t n = ::write(fd_, frame.data(), frame.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return sdk::Status::Unavailable(std::string("writing a task host record: ") +
                                      std::strerror(errno));
    }
    frame.remove_prefix(static_cast<std::size_t>(n));
  }
  return sdk::Status::Ok();
}

}  // namespace scaleout::core::taskhost

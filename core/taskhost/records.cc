#include "core/taskhost/records.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/json_writer.h"
#include "core/common/utf8.h"

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

// The fast path of DecodePayload: the record read straight from the JSON
// text, without building a document (the task host decodes one request per
// task; the document was a seventh of a pooled host's CPU per noop task).
// It accepts only the shapes the encoders write, each key once, and gives
// up (returns false) on anything else, which the document path then decodes
// or refuses with its own words; so both paths agree on every input.
class FastRecordReader final : public nlohmann::json_sax<json> {
 public:
  // True when `payload` was a complete record of a known kind, in *record.
  bool Read(std::string_view payload, Record* record);

  bool null() override { return false; }
  bool boolean(bool value) override {
    if (Top() != kParam || key_ != "sensitive" || !Once(kSensitive)) return false;
    Param().sensitive = value;
    return true;
  }
  bool number_integer(number_integer_t value) override { return Integer(value); }
  bool number_unsigned(number_unsigned_t value) override {
    return Integer(static_cast<std::int64_t>(value));
  }
  bool number_float(number_float_t /*value*/, const string_t& /*text*/) override { return false; }
  bool binary(binary_t& /*value*/) override { return false; }
  bool string(string_t& value) override;
  bool start_object(std::size_t /*elements*/) override;
  bool end_object() override;
  bool start_array(std::size_t /*elements*/) override {
    if (Top() != kTask || key_ != "parameters" || !Once(kParameters)) return false;
    stack_.push_back(kParams);
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool key(string_t& value) override {
    key_ = std::move(value);
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    return false;
  }

 private:
  enum Context { kTop, kSpec, kTask, kParams, kParam, kConfig };
  // One bit per field read, per object (a key seen twice sends the record
  // to the document path, which keeps the last).
  enum Field : std::uint32_t {
    kRecord = 1u << 0,
    kExecutor = 1u << 1,
    kMessage = 1u << 2,
    kSource = 1u << 3,
    kType = 1u << 4,
    kResult = 1u << 5,
    kExitCode = 1u << 6,
    kTaskId = 1u << 7,
    kSpecObject = 1u << 8,
    kExecutionId = 1u << 9,
    kAttempt = 1u << 10,
    kProjectDir = 1u << 11,
    kPackageName = 1u << 12,
    kWorkDir = 1u << 13,
    kLoggingLevel = 1u << 14,
    kParameters = 1u << 15,
    kConfigObject = 1u << 16,
    kLogFile = 1u << 17,
    kLogLevel = 1u << 18,
    kDeathSignal = 1u << 19,
    kParentPid = 1u << 20,
    kTaskObject = 1u << 21,
    kObjectType = 1u << 22,
    kName = 1u << 23,
    kValue = 1u << 24,
    kDataType = 1u << 25,
    kSensitive = 1u << 26,
  };
  static constexpr std::uint32_t kTaskRequired =
      kExecutionId | kAttempt | kTaskId | kProjectDir | kPackageName | kWorkDir;

  Context Top() const { return stack_.empty() ? kTop : stack_.back(); }
  std::uint32_t& Seen() { return seen_[static_cast<std::size_t>(Top())]; }
  bool Once(std::uint32_t field) {
    if ((Seen() & field) != 0) return false;
    Seen() |= field;
    return true;
  }
  sdk::ExecutionParameter& Param() { return spec_.task.parameters.back(); }
  // Stores `value` as the field `field` of the object being read (once).
  bool Set(std::string* into, string_t& value, std::uint32_t field) {
    if (!Once(field)) return false;
    *into = std::move(value);
    return true;
  }
  template <typename T>
  bool Set(T* into, std::int64_t value, std::uint32_t field) {
    if (!Once(field)) return false;
    *into = static_cast<T>(value);
    return true;
  }
  bool Integer(std::int64_t value);
  bool Finish(Record* record);

  std::vector<Context> stack_;  // the objects and arrays open, outermost first
  std::array<std::uint32_t, 6> seen_{};
  std::string key_;
  std::string kind_, executor_, message_, source_, task_id_;
  std::int64_t type_ = 0, result_ = 0, exit_code_ = 0;
  TaskHostSpec spec_;
};

// Drives a FastRecordReader's callbacks straight from the text, as
// json::sax_parse(strict) would, but several times faster (no per-character
// virtual calls, plain runs of a string copied whole): the task host decodes
// one request and the worker two records per task. Stricter than JSON: it
// gives up (false) on floats, integers of more than 18 digits, a lone
// surrogate escape, a byte order mark and nesting deeper than the records go,
// and the document path decides those. Anything it accepts is JSON that
// the document reads the same way (records_test checks it).
class RecordScanner {
 public:
  RecordScanner(std::string_view text, FastRecordReader& reader) : text_(text), reader_(reader) {}

  bool Run() {
    SkipSpace();
    if (!Value(0)) return false;
    SkipSpace();
    return pos_ == text_.size();
  }

 private:
  static constexpr int kMaxDepth = 8;  // records nest five deep
  static constexpr int kMaxDigits = 18;

  bool At(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool Value(int depth) {
    if (pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '{': return Object(depth + 1);
      case '[': return Array(depth + 1);
      case '"': {
        std::string value;
        return String(&value) && reader_.string(value);
      }
      case 't': return Literal("true") && reader_.boolean(true);
      case 'f': return Literal("false") && reader_.boolean(false);
      case 'n': return Literal("null") && reader_.null();
      default: return Number();
    }
  }

  bool Object(int depth) {
    ++pos_;  // '{'
    if (depth > kMaxDepth || !reader_.start_object(static_cast<std::size_t>(-1))) return false;
    return Elements('}',
                    [&] {
                      std::string key;
                      if (!At('"') || !String(&key) || !reader_.key(key)) return false;
                      SkipSpace();
                      if (!At(':')) return false;
                      ++pos_;
                      SkipSpace();
                      return Value(depth);
                    }) &&
           reader_.end_object();
  }

  bool Array(int depth) {
    ++pos_;  // '['
    if (depth > kMaxDepth || !reader_.start_array(static_cast<std::size_t>(-1))) return false;
    return Elements(']', [&] { return Value(depth); }) && reader_.end_array();
  }

  // An object's members or an array's values, `element` reading each, up
  // to and including the `close` bracket.
  template <typename Element>
  bool Elements(char close, Element element) {
    SkipSpace();
    if (At(close)) {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (!element()) return false;
      SkipSpace();
      if (At(',')) {
        ++pos_;
        continue;
      }
      if (!At(close)) return false;
      ++pos_;
      return true;
    }
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // A non-negative integer goes to number_unsigned, a negative one to
  // number_integer, as nlohmann reports them.
  bool Number() {
    const bool negative = At('-');
    if (negative) ++pos_;
    const std::size_t first = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (pos_ - first == kMaxDigits) return false;
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
    }
    const std::size_t digits = pos_ - first;
    if (digits == 0 || (digits > 1 && text_[first] == '0')) return false;
    if (At('.') || At('e') || At('E')) return false;
    return negative ? reader_.number_integer(-value)
                    : reader_.number_unsigned(static_cast<std::uint64_t>(value));
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // One escape after the backslash at pos_, appended to *out.
  bool Escape(std::string* out) {
    if (pos_ + 1 >= text_.size()) return false;
    const char c = text_[pos_ + 1];
    pos_ += 2;
    switch (c) {
      case '"': *out += '"'; return true;
      case '\\': *out += '\\'; return true;
      case '/': *out += '/'; return true;
      case 'b': *out += '\b'; return true;
      case 'f': *out += '\f'; return true;
      case 'n': *out += '\n'; return true;
      case 'r': *out += '\r'; return true;
      case 't': *out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    std::uint32_t code = 0;
    if (!Hex4(&code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate alone
    if (code >= 0xD800 && code <= 0xDBFF) {              // a high one: its pair must follow
      std::uint32_t low = 0;
      if (!Literal("\\u") || !Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code < 0x80) {
      *out += static_cast<char>(code);
    } else if (code < 0x800) {
      *out += static_cast<char>(0xC0 | (code >> 6));
      *out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      *out += static_cast<char>(0xE0 | (code >> 12));
      *out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (code >> 18));
      *out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (code & 0x3F));
    }
    return true;
  }

  // Four hex digits at pos_.
  bool Hex4(std::uint32_t* code) {
    if (pos_ + 4 > text_.size()) return false;
    for (int i = 0; i < 4; ++i) {
      const int digit = HexDigit(text_[pos_ + static_cast<std::size_t>(i)]);
      if (digit < 0) return false;
      *code = (*code << 4) | static_cast<std::uint32_t>(digit);
    }
    pos_ += 4;
    return true;
  }

  // The string whose opening quote is at pos_. Escapes only ever produce
  // whole UTF-8 sequences, so checking the decoded bytes checks the text's.
  bool String(std::string* out) {
    ++pos_;  // '"'
    bool high = false;
    std::size_t run = pos_;
    for (;;) {
      if (pos_ >= text_.size()) return false;
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"' || c == '\\') {
        out->append(text_.substr(run, pos_ - run));
        if (c == '"') break;
        if (!Escape(out)) return false;
        run = pos_;
        continue;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) high = true;
      ++pos_;
    }
    ++pos_;  // the closing '"'
    return !high || IsValidUtf8(*out);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  FastRecordReader& reader_;
};

bool FastRecordReader::Read(std::string_view payload, Record* record) {
  return RecordScanner(payload, *this).Run() && Finish(record);
}

bool FastRecordReader::string(string_t& value) {
  switch (Top()) {
    case kTop:
      if (key_ == "record") return Set(&kind_, value, kRecord);
      if (key_ == "executor") return Set(&executor_, value, kExecutor);
      if (key_ == "message") return Set(&message_, value, kMessage);
      if (key_ == "source") return Set(&source_, value, kSource);
      if (key_ == "task_id") return Set(&task_id_, value, kTaskId);
      return false;
    case kSpec:
      if (key_ == "log_file") return Set(&spec_.log_file, value, kLogFile);
      return false;
    case kTask:
      if (key_ == "task_id") return Set(&spec_.task.task_id, value, kTaskId);
      if (key_ == "project_dir") return Set(&spec_.task.project_dir, value, kProjectDir);
      if (key_ == "package_name") return Set(&spec_.task.package_name, value, kPackageName);
      if (key_ == "work_dir") return Set(&spec_.task.work_dir, value, kWorkDir);
      return false;
    case kParam:
      if (key_ == "name") return Set(&Param().name, value, kName);
      if (key_ == "value") return Set(&Param().value, value, kValue);
      if (key_ == "data_type") return Set(&Param().data_type, value, kDataType);
      return false;
    case kConfig: spec_.executor_config[key_] = std::move(value); return true;
    case kParams: return false;
  }
  return false;
}

bool FastRecordReader::Integer(std::int64_t value) {
  switch (Top()) {
    case kTop:
      if (key_ == "type") return Set(&type_, value, kType);
      if (key_ == "result") return Set(&result_, value, kResult);
      if (key_ == "exit_code") return Set(&exit_code_, value, kExitCode);
      return false;
    case kSpec:
      if (key_ == "log_level") return Set(&spec_.log_level, value, kLogLevel);
      if (key_ == "parent_death_signal")
        return Set(&spec_.parent_death_signal, value, kDeathSignal);
      if (key_ == "parent_pid") return Set(&spec_.parent_pid, value, kParentPid);
      return false;
    case kTask:
      if (key_ == "execution_id") return Set(&spec_.task.execution_id, value, kExecutionId);
      if (key_ == "attempt") return Set(&spec_.task.attempt, value, kAttempt);
      if (key_ == "logging_level") return Set(&spec_.task.logging_level, value, kLoggingLevel);
      return false;
    case kParam:
      // Out of range: the document path says so.
      if (key_ != "object_type" || (value != 20 && value != 30 && value != 50)) return false;
      return Set(&Param().object_type, value, kObjectType);
    case kParams:
    case kConfig: return false;
  }
  return false;
}

bool FastRecordReader::start_object(std::size_t /*elements*/) {
  Context next;
  if (stack_.empty()) {
    next = kTop;
  } else if (Top() == kTop && key_ == "spec" && Once(kSpecObject)) {
    next = kSpec;
  } else if (Top() == kSpec && key_ == "task" && Once(kTaskObject)) {
    next = kTask;
  } else if (Top() == kSpec && key_ == "executor_config" && Once(kConfigObject)) {
    next = kConfig;
  } else if (Top() == kParams) {
    next = kParam;
    spec_.task.parameters.emplace_back();
  } else {
    return false;
  }
  stack_.push_back(next);
  seen_[static_cast<std::size_t>(next)] = 0;
  return true;
}

bool FastRecordReader::end_object() {
  const Context closing = Top();
  const std::uint32_t seen = Seen();
  stack_.pop_back();
  switch (closing) {
    case kParam: return (seen & (kObjectType | kName | kValue)) == (kObjectType | kName | kValue);
    case kTask: return (seen & kTaskRequired) == kTaskRequired;
    case kSpec: return (seen & kTaskObject) != 0;
    default: return true;
  }
}

bool FastRecordReader::Finish(Record* record) {
  const std::uint32_t seen = seen_[kTop];
  auto has = [&](std::uint32_t fields) { return (seen & fields) == fields; };
  if (!has(kRecord)) return false;
  if (kind_ == "event" && has(kType | kSource | kMessage)) {
    record->kind = Record::Kind::kEvent;
    record->event = {static_cast<sdk::MessageType>(static_cast<int>(type_)), std::move(source_),
                     std::move(message_)};
    return true;
  }
  if (kind_ == "outcome" && has(kResult | kExitCode | kMessage) && result_ >= 0 &&
      result_ <= static_cast<int>(sdk::TaskResult::kCancelled)) {
    record->kind = Record::Kind::kOutcome;
    record->outcome = {static_cast<sdk::TaskResult>(result_), static_cast<int>(exit_code_),
                       std::move(message_)};
    return true;
  }
  if (kind_ == "task" && has(kExecutor | kSpecObject)) {
    record->kind = Record::Kind::kTask;
    record->executor = std::move(executor_);
    record->spec = std::move(spec_);
    return true;
  }
  if (kind_ == "cancel" && has(kTaskId)) {
    record->kind = Record::Kind::kCancel;
    record->task_id = std::move(task_id_);
    return true;
  }
  if (kind_ == "retiring") {
    record->kind = Record::Kind::kRetiring;
    return true;
  }
  return false;
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
  Record fast;
  if (internal::ReadRecordFast(payload, &fast)) {
    out->push_back(std::move(fast));
    return sdk::Status::Ok();
  }
  return internal::ReadRecordWithDocument(payload, out);
}

namespace internal {

bool ReadRecordFast(std::string_view payload, Record* record) {
  return FastRecordReader().Read(payload, record);
}

sdk::Status ReadRecordWithDocument(std::string_view payload, std::vector<Record>* out) {
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

}  // namespace internal

sdk::Status RecordWriter::Write(std::string_view frame) {
  std::lock_guard lock(mutex_);
  return WriteLocked(held_.Pass(frame));
}

void RecordWriter::Hold() {
  std::lock_guard lock(mutex_);
  held_.Hold();
}

sdk::Status RecordWriter::Release() {
  std::lock_guard lock(mutex_);
  return WriteLocked(held_.Release());
}

sdk::Status RecordWriter::WriteLocked(std::string_view frame) {
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

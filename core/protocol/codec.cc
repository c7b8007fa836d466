#include "core/protocol/codec.h"

#include <msgpack.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/common/ids.h"
#include "core/common/utf8.h"

namespace scaleout::core::protocol {

using sdk::Status;

// The parsed msgpack tree of one message. Strings and binaries point into the
// caller's bytes (see Message); containers live in `zone`.
struct Message::Parsed {
  msgpack::zone zone;
  msgpack::object root;
  const msgpack::object* body = nullptr;  // the envelope's "b", or null when absent
};

namespace {

// ============================================================================
// Encoding: msgpack::packer straight into the output string.
// ============================================================================

struct StringSink {
  std::string* out;
  void write(const char* data, std::size_t size) { out->append(data, size); }
};

// Thin wrapper over msgpack::packer with the few shapes the messages use.
// Sizes were bounded by the caller's data; msgpack caps each at 2^32-1.
class Writer {
 public:
  explicit Writer(std::string* out) : sink_{out}, packer_(sink_) {}

  void Map(std::size_t pairs) { packer_.pack_map(static_cast<std::uint32_t>(pairs)); }
  void Array(std::size_t size) { packer_.pack_array(static_cast<std::uint32_t>(size)); }
  void Str(std::string_view s) {
    packer_.pack_str(static_cast<std::uint32_t>(s.size()));
    packer_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  void Bin(std::string_view b) {
    packer_.pack_bin(static_cast<std::uint32_t>(b.size()));
    packer_.pack_bin_body(b.data(), static_cast<std::uint32_t>(b.size()));
  }
  void Int(std::int64_t v) { packer_.pack_int64(v); }  // smallest encoding
  void Bool(bool v) {
    if (v) {
      packer_.pack_true();
    } else {
      packer_.pack_false();
    }
  }
  void Double(double v) { packer_.pack_double(v); }

  void Field(std::string_view key, std::string_view value) {
    Str(key);
    Str(value);
  }
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  void Field(std::string_view key, bool value) {
    Str(key);
    Bool(value);
  }
  void Field(std::string_view key, double value) {
    Str(key);
    Double(value);
  }
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) void Field(std::string_view key,
                                                                         I value) {
    Str(key);
    Int(static_cast<std::int64_t>(value));
  }
  void BinField(std::string_view key, std::string_view value) {
    Str(key);
    Bin(value);
  }
  void Key(std::string_view key) { Str(key); }

 private:
  StringSink sink_;
  msgpack::packer<StringSink> packer_;
};

std::int64_t CodeValue(sdk::StatusCode code) { return static_cast<std::uint16_t>(code); }

// One WriteBody per message and nested struct. The map sizes must match the
// fields written; the round-trip tests check every one.
void WriteBody(Writer& w, const ErrorReply& m) {
  w.Map(2);
  w.Field("code", CodeValue(m.code));
  w.Field("message", m.message);
}

void WriteBody(Writer& w, const RegisterRequest& m) {
  w.Map(9);
  w.Field("agent_id", m.agent_id);
  w.Field("machine_name", m.machine_name);
  w.Field("display_name", m.display_name);
  w.Field("description", m.description);
  w.Key("tags");
  w.Array(m.tags.size());
  for (const std::string& tag : m.tags) w.Str(tag);
  w.Field("max_task_count", m.max_task_count);
  w.Field("cpu_count", m.cpu_count);
  w.Field("total_memory_mb", m.total_memory_mb);
  w.Field("version", m.version);
}

void WriteBody(Writer& w, const RegisterReply& m) {
  w.Map(6);
  w.Field("agent_id", m.agent_id);
  w.Field("enabled", m.enabled);
  w.Field("lease_interval_ms", m.lease_interval_ms);
  w.Field("task_heartbeat_interval_ms", m.task_heartbeat_interval_ms);
  w.Field("agent_heartbeat_interval_ms", m.agent_heartbeat_interval_ms);
  w.Field("master_time_ms", m.master_time_ms);
}

void WriteBody(Writer& w, const AgentHeartbeatRequest& m) {
  w.Map(4);
  w.Field("agent_id", m.agent_id);
  w.Field("running_tasks", m.running_tasks);
  w.Field("cpu_percent", m.cpu_percent);
  w.Field("free_memory_mb", m.free_memory_mb);
}

void WriteBody(Writer& w, const AgentHeartbeatReply& m) {
  w.Map(1);
  w.Field("enabled", m.enabled);
}

void WriteBody(Writer& w, const TaskParameter& m) {
  w.Map(5);
  w.Field("object_type", m.object_type);
  w.Field("name", m.name);
  w.Field("value", m.value);
  w.Field("data_type", m.data_type);
  w.Field("sensitive", m.sensitive);
}

void WriteBody(Writer& w, const TaskAssignment& m) {
  w.Map(14);
  w.Field("task_id", m.task_id);
  w.Field("execution_id", m.execution_id);
  w.Field("attempt", m.attempt);
  w.Field("lease_epoch", m.lease_epoch);
  w.Field("lease_expires_at_ms", m.lease_expires_at_ms);
  w.Field("lease_interval_ms", m.lease_interval_ms);
  w.Field("folder", m.folder);
  w.Field("project", m.project);
  w.Field("project_id", m.project_id);
  w.Field("project_version", m.project_version);
  w.Field("package_name", m.package_name);
  w.Field("logging_level", m.logging_level);
  w.Field("executor", m.executor);
  w.Key("parameters");
  w.Array(m.parameters.size());
  for (const TaskParameter& p : m.parameters) WriteBody(w, p);
}

template <typename T>
void WriteList(Writer& w, std::string_view key, const std::vector<T>& items) {
  w.Key(key);
  w.Array(items.size());
  for (const T& item : items) WriteBody(w, item);
}

void WriteBody(Writer& w, const GetProjectRequest& m) {
  w.Map(3);
  w.Field("agent_id", m.agent_id);
  w.Field("project_id", m.project_id);
  w.Field("project_version", m.project_version);
}

void WriteBody(Writer& w, const ProjectFile& m) {
  w.Map(3);
  w.Field("path", m.path);
  w.BinField("content", m.content);
  w.Field("sha256", m.sha256);
}

void WriteBody(Writer& w, const GetProjectReply& m) {
  w.Map(1);
  WriteList(w, "files", m.files);
}

void WriteBody(Writer& w, const TaskLease& m) {
  w.Map(2);
  w.Field("task_id", m.task_id);
  w.Field("lease_epoch", m.lease_epoch);
}

void WriteBody(Writer& w, const TaskHeartbeatRequest& m) {
  w.Map(2);
  w.Field("agent_id", m.agent_id);
  WriteList(w, "tasks", m.tasks);
}

void WriteBody(Writer& w, const TaskLeaseStatus& m) {
  w.Map(3);
  w.Field("task_id", m.task_id);
  w.Field("status", static_cast<std::uint8_t>(m.status));
  w.Field("lease_expires_at_ms", m.lease_expires_at_ms);
}

void WriteBody(Writer& w, const TaskHeartbeatReply& m) {
  w.Map(1);
  WriteList(w, "tasks", m.tasks);
}

void WriteBody(Writer& w, const EventMessage& m) {
  w.Map(8);
  w.Field("execution_id", m.execution_id);
  w.Field("task_id", m.task_id);
  w.Field("event_message_guid", m.event_message_guid);
  w.Field("message_time_ms", m.message_time_ms);
  w.Field("message_type", m.message_type);
  w.Field("message_source_type", m.message_source_type);
  w.Field("message_source", m.message_source);
  w.Field("message", m.message);
}

void WriteBody(Writer& w, const ReportEventsRequest& m) {
  w.Map(3);
  w.Field("agent_id", m.agent_id);
  w.Field("batch_id", m.batch_id);
  WriteList(w, "events", m.events);
}

void WriteBody(Writer& w, const ReportEventsReply& m) {
  w.Map(1);
  w.Field("accepted", m.accepted);
}

void WriteBody(Writer& w, const TaskResult& m) {
  w.Map(7);
  w.Field("task_id", m.task_id);
  w.Field("lease_epoch", m.lease_epoch);
  w.Field("result", static_cast<std::uint8_t>(m.result));
  w.Field("exit_code", m.exit_code);
  w.Field("message", m.message);
  w.Field("start_time_ms", m.start_time_ms);
  w.Field("end_time_ms", m.end_time_ms);
}

void WriteBody(Writer& w, const ReportResultsRequest& m) {
  w.Map(2);
  w.Field("agent_id", m.agent_id);
  WriteList(w, "results", m.results);
}

void WriteBody(Writer& w, const ResultAck& m) {
  w.Map(3);
  w.Field("task_id", m.task_id);
  w.Field("code", CodeValue(m.code));
  w.Field("message", m.message);
}

void WriteBody(Writer& w, const ReportResultsReply& m) {
  w.Map(1);
  WriteList(w, "results", m.results);
}

// The results go only when there are some: a request without results is what
// a master that predates them expects.
void WriteBody(Writer& w, const RequestTasksRequest& m) {
  w.Map(m.results.empty() ? 3 : 4);
  w.Field("agent_id", m.agent_id);
  w.Field("free_slots", m.free_slots);
  w.Field("wait_ms", m.wait_ms);
  if (!m.results.empty()) WriteList(w, "results", m.results);
}

void WriteBody(Writer& w, const RequestTasksReply& m) {
  w.Map(m.result_acks.empty() ? 1 : 2);
  WriteList(w, "tasks", m.tasks);
  if (!m.result_acks.empty()) WriteList(w, "result_acks", m.result_acks);
}

void WriteBody(Writer& w, const ManageRequest& m) {
  w.Map(2);
  w.Field("operation", m.operation);
  w.Key("args");
  w.Map(m.args.size());
  for (const auto& [key, value] : m.args) w.Field(key, value);
}

void WriteBody(Writer& w, const ManageReply& m) {
  w.Map(3);
  w.Field("code", CodeValue(m.code));
  w.Field("message", m.message);
  w.Field("json", m.json);
}

template <typename T>
void EncodeEnvelope(const T& message, std::string* out) {
  out->clear();
  Writer w(out);
  w.Map(3);
  w.Field("v", kProtocolVersion);
  w.Field("t", static_cast<std::uint16_t>(T::kType));
  w.Key("b");
  WriteBody(w, message);
}

// ============================================================================
// Decoding, step 1: bytes -> msgpack tree, under explicit limits.
// ============================================================================

// Strings and binaries are referenced in place, not copied into the zone:
// the decoders copy each exactly once, into the struct.
bool ReferenceAll(msgpack::type::object_type /*type*/, std::size_t /*size*/, void* /*user*/) {
  return true;
}

struct ItemLimitExceeded {
  std::size_t limit;
};
struct DeclaredPastEnd {};

// msgpack-c's object builder allocates an array's or map's slots as soon as
// it reads the header (24 bytes per item), before the items arrive. This
// visitor counts declared items over the whole message and stops when they
// pass DecodeLimits::max_items or the input size (every item needs a byte,
// so more items than bytes is a lie), which bounds memory by the input size.
class LimitedVisitor : public msgpack::v2::detail::create_object_visitor {
 public:
  LimitedVisitor(const msgpack::unpack_limit& limit, std::size_t max_items, std::size_t input_bytes)
      : create_object_visitor(&ReferenceAll, nullptr, limit),
        max_items_(max_items),
        input_bytes_(input_bytes) {}

  bool start_array(std::uint32_t size) {
    if (size > m_limit.array()) throw msgpack::array_size_overflow("array size overflow");
    Charge(size);
    return create_object_visitor::start_array(size);
  }
  bool start_map(std::uint32_t pairs) {
    if (pairs > m_limit.map()) throw msgpack::map_size_overflow("map size overflow");
    Charge(2 * static_cast<std::size_t>(pairs));
    return create_object_visitor::start_map(pairs);
  }

 private:
  void Charge(std::size_t items) {
    items_ += items;
    if (items_ > max_items_) throw ItemLimitExceeded{max_items_};
    if (items_ > input_bytes_) throw DeclaredPastEnd{};
  }

  std::size_t max_items_;
  std::size_t input_bytes_;
  std::size_t items_ = 0;
};

std::string Num(std::size_t n) { return std::to_string(n); }

Status Unpack(sdk::ByteView bytes, const DecodeLimits& l, Message::Parsed* out) {
  const msgpack::unpack_limit limit(l.max_array, l.max_map, l.max_str, l.max_bin,
                                    /*ext=*/l.max_str, l.max_depth);
  try {
    LimitedVisitor visitor(limit, l.max_items, bytes.size());
    visitor.set_zone(out->zone);
    std::size_t offset = 0;
    const msgpack::parse_return ret =
        msgpack::v3::detail::parse_imp(bytes.data(), bytes.size(), offset, visitor);
    if (ret == msgpack::PARSE_EXTRA_BYTES) {
      return Status::InvalidArgument(Num(bytes.size() - offset) +
                                     " unexpected bytes after the message");
    }
    if (ret != msgpack::PARSE_SUCCESS) return Status::InvalidArgument("truncated message");
    out->root = visitor.data();
    return Status::Ok();
  } catch (const msgpack::array_size_overflow&) {
    return Status::ResourceExhausted("an array has more than " + Num(l.max_array) +
                                     " elements (DecodeLimits.max_array)");
  } catch (const msgpack::map_size_overflow&) {
    return Status::ResourceExhausted("a map has more than " + Num(l.max_map) +
                                     " entries (DecodeLimits.max_map)");
  } catch (const msgpack::str_size_overflow&) {
    return Status::ResourceExhausted("a string is longer than " + Num(l.max_str) +
                                     " bytes (DecodeLimits.max_str)");
  } catch (const msgpack::bin_size_overflow&) {
    return Status::ResourceExhausted("a binary is longer than " + Num(l.max_bin) +
                                     " bytes (DecodeLimits.max_bin)");
  } catch (const msgpack::ext_size_overflow&) {
    return Status::ResourceExhausted("an extension value is longer than " + Num(l.max_str) +
                                     " bytes");
  } catch (const msgpack::depth_size_overflow&) {
    return Status::ResourceExhausted("nesting is deeper than " + Num(l.max_depth) +
                                     " levels (DecodeLimits.max_depth)");
  } catch (const ItemLimitExceeded& e) {
    return Status::ResourceExhausted("the message has more than " + Num(e.limit) +
                                     " items (DecodeLimits.max_items)");
  } catch (const DeclaredPastEnd&) {
    return Status::InvalidArgument("truncated message: containers declare more items than " +
                                   Num(bytes.size()) + " bytes can hold");
  } catch (const msgpack::insufficient_bytes&) {
    return Status::InvalidArgument("truncated message");
  } catch (const msgpack::parse_error&) {
    return Status::InvalidArgument("malformed msgpack");
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory decoding a " + Num(bytes.size()) +
                                     "-byte message");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed msgpack: ") + e.what());
  }
}

// ============================================================================
// Decoding, step 2: msgpack tree -> structs, naming the field on error.
// ============================================================================

// The path of a field ("RequestTasksReply.tasks[3].task_id"), built only when
// an error message needs it. Each Path lives on the stack of the decoder
// that handles its field and points at its parent's.
class Path {
 public:
  explicit Path(std::string_view root) : name_(root) {}

  Path Field(std::string_view name) const { return Path(this, name, kNoIndex); }
  Path Index(std::size_t index) const { return Path(this, {}, index); }

  std::string ToString() const {
    std::string out = parent_ != nullptr ? parent_->ToString() : std::string();
    if (index_ != kNoIndex) {
      out += '[' + std::to_string(index_) + ']';
    } else {
      if (parent_ != nullptr) out += '.';
      out += name_;
    }
    return out;
  }

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  Path(const Path* parent, std::string_view name, std::size_t index)
      : parent_(parent), name_(name), index_(index) {}

  const Path* parent_ = nullptr;
  std::string_view name_;
  std::size_t index_ = kNoIndex;
};

Status Invalid(const Path& path, std::string_view what) {
  return Status::InvalidArgument(path.ToString() + " " + std::string(what));
}

Status Exhausted(const Path& path, std::string_view what) {
  return Status::ResourceExhausted(path.ToString() + " " + std::string(what));
}

std::string_view TypeName(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "string";
    case msgpack::type::BIN: return "binary";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "extension";
  }
  return "unknown type";
}

Status WrongType(const Path& path, std::string_view expected, const msgpack::object& got) {
  return Invalid(path, "must be " + std::string(expected) + ", got " + std::string(TypeName(got)));
}

// At most 64 characters of `text`, non-printable bytes as \xNN: error
// messages quote peer input without echoing megabytes or control bytes.
std::string Quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < 64; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (text.size() > 64) out += "...";
  out += "'";
  return out;
}

// Readers: one per wire type. A nil value counts as absent and keeps the
// default, as a missing key does.

Status ReadString(const msgpack::object& o, const Path& path, std::string* out) {
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type != msgpack::type::STR) return WrongType(path, "a string", o);
  const std::string_view s(o.via.str.ptr, o.via.str.size);
  if (!IsValidUtf8(s)) return Invalid(path, "must be valid UTF-8");
  out->assign(s);
  return Status::Ok();
}

Status ReadBin(const msgpack::object& o, const Path& path, std::string* out) {
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type != msgpack::type::BIN) return WrongType(path, "binary", o);
  out->assign(o.via.bin.ptr, o.via.bin.size);
  return Status::Ok();
}

Status ReadBool(const msgpack::object& o, const Path& path, bool* out) {
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type != msgpack::type::BOOLEAN) return WrongType(path, "a boolean", o);
  *out = o.via.boolean;
  return Status::Ok();
}

// Reads an integer that must fit I; the message gives I's range.
template <typename I>
Status ReadInt(const msgpack::object& o, const Path& path, I* out) {
  using Limits = std::numeric_limits<I>;
  const auto range = [&](const std::string& got) {
    return Invalid(path, "must be " + std::to_string(Limits::min()) + ".." +
                             std::to_string(Limits::max()) + ", got " + got);
  };
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type == msgpack::type::POSITIVE_INTEGER) {
    if (o.via.u64 > static_cast<std::uint64_t>(Limits::max()))
      return range(std::to_string(o.via.u64));
    *out = static_cast<I>(o.via.u64);
    return Status::Ok();
  }
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    if constexpr (std::is_unsigned_v<I>) {
      return range(std::to_string(o.via.i64));
    } else {
      if (o.via.i64 < static_cast<std::int64_t>(Limits::min())) {
        return range(std::to_string(o.via.i64));
      }
      *out = static_cast<I>(o.via.i64);
      return Status::Ok();
    }
  }
  return WrongType(path, "an integer", o);
}

Status ReadDouble(const msgpack::object& o, const Path& path, double* out) {
  switch (o.type) {
    case msgpack::type::NIL: return Status::Ok();
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: *out = o.via.f64; break;
    case msgpack::type::POSITIVE_INTEGER: *out = static_cast<double>(o.via.u64); break;
    case msgpack::type::NEGATIVE_INTEGER: *out = static_cast<double>(o.via.i64); break;
    default: return WrongType(path, "a number", o);
  }
  if (!std::isfinite(*out)) return Invalid(path, "must be a finite number");
  return Status::Ok();
}

// Status codes are kept even when this build does not know them (a newer
// peer may append codes); StatusCodeName() prints those as "unknown".
Status ReadCode(const msgpack::object& o, const Path& path, sdk::StatusCode* out) {
  std::uint16_t value = static_cast<std::uint16_t>(*out);
  SCALEOUT_RETURN_IF_ERROR(ReadInt(o, path, &value));
  *out = static_cast<sdk::StatusCode>(value);
  return Status::Ok();
}

template <typename E>
Status ReadEnum(const msgpack::object& o, const Path& path, E* out) {
  auto value = static_cast<std::underlying_type_t<E>>(*out);
  SCALEOUT_RETURN_IF_ERROR(ReadInt(o, path, &value));
  *out = static_cast<E>(value);
  return Status::Ok();
}

// Calls fn(key, value) for each string-keyed entry of the map `o`; other keys
// are ignored like unknown fields. A nil or absent map has no entries.
template <typename Fn>
Status ForEachField(const msgpack::object* o, const Path& path, Fn&& fn) {
  if (o == nullptr || o->type == msgpack::type::NIL) return Status::Ok();
  if (o->type != msgpack::type::MAP) return WrongType(path, "a map", *o);
  for (std::uint32_t i = 0; i < o->via.map.size; ++i) {
    const msgpack::object_kv& kv = o->via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    SCALEOUT_RETURN_IF_ERROR(fn(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), kv.val));
  }
  return Status::Ok();
}

// Reads an array of at most `max` items, each with read(item, path, out).
template <typename T, typename Read>
Status ReadList(const msgpack::object& o, const Path& path, std::size_t max,
                std::string_view limit_name, std::vector<T>* out, Read&& read) {
  out->clear();
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type != msgpack::type::ARRAY) return WrongType(path, "an array", o);
  if (o.via.array.size > max) {
    return Exhausted(path, "has " + Num(o.via.array.size) + " items, limit " + Num(max) + " (" +
                               std::string(limit_name) + ")");
  }
  out->resize(o.via.array.size);
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    SCALEOUT_RETURN_IF_ERROR(read(o.via.array.ptr[i], path.Index(i), &(*out)[i]));
  }
  return Status::Ok();
}

Status ReadStringMap(const msgpack::object& o, const Path& path,
                     std::map<std::string, std::string>* out) {
  out->clear();
  if (o.type == msgpack::type::NIL) return Status::Ok();
  if (o.type != msgpack::type::MAP) return WrongType(path, "a map", o);
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    std::string key;
    const Path item = path.Index(i);
    if (kv.key.type != msgpack::type::STR) return WrongType(item, "a string key", kv.key);
    SCALEOUT_RETURN_IF_ERROR(ReadString(kv.key, item, &key));
    SCALEOUT_RETURN_IF_ERROR(ReadString(kv.val, path.Field(key), &(*out)[key]));
  }
  return Status::Ok();
}

// Validators, run after the fields were read so that a missing field is
// checked like a present one.

// True for the canonical form (36 chars, uppercase hex, dashes at 8, 13, 18,
// 23), which is what our encoders send: the common case skips
// NormalizeGuid's copy and its locale-aware character calls.
bool IsCanonicalGuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

Status CheckGuid(const Path& path, std::string* guid) {
  if (guid->empty()) return Invalid(path, "is required (a GUID)");
  if (IsCanonicalGuid(*guid)) return Status::Ok();
  std::optional<std::string> normalized = NormalizeGuid(*guid);
  if (!normalized) return Invalid(path, "must be a GUID, got " + Quote(*guid));
  *guid = std::move(*normalized);
  return Status::Ok();
}

// "42", "-3", "100.5": integers exactly, floats in the shortest usual form.
template <typename V>
std::string FormatNumber(V value) {
  if constexpr (std::is_floating_point_v<V>) {
    std::ostringstream out;
    out << value;
    return out.str();
  } else {
    return std::to_string(value);
  }
}

template <typename V>
Status CheckRange(const Path& path, V value, V min, V max) {
  if (value >= min && value <= max) return Status::Ok();
  return Invalid(path, "must be " + FormatNumber(min) + ".." + FormatNumber(max) + ", got " +
                           FormatNumber(value));
}

Status CheckName(const Path& path, const std::string& name, bool required) {
  if (required && name.empty()) return Invalid(path, "is required");
  if (name.size() > kMaxNameBytes) {
    return Exhausted(path, "is " + Num(name.size()) + " bytes, limit " + Num(kMaxNameBytes));
  }
  return Status::Ok();
}

Status CheckTime(const Path& path, std::int64_t ms) {
  return CheckRange<std::int64_t>(path, ms, 0, kMaxTimeMs);
}

Status CheckInterval(const Path& path, std::int64_t ms) {
  return CheckRange<std::int64_t>(path, ms, 1, kMaxIntervalMs);
}

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// A project file path a worker may safely join to its cache folder.
Status CheckRelativePath(const Path& path, const std::string& p) {
  SCALEOUT_RETURN_IF_ERROR(CheckName(path, p, /*required=*/true));
  if (p.find('\0') != std::string::npos || p.find('\\') != std::string::npos) {
    return Invalid(path, "must not contain NUL or '\\', got " + Quote(p));
  }
  if (p.front() == '/') return Invalid(path, "must be relative, got " + Quote(p));
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string_view segment(p.data() + start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return Invalid(path, "must not have an empty, '.' or '..' segment, got " + Quote(p));
    }
    start = end + 1;
  }
  return Status::Ok();
}

// One DecodeObject per message and nested struct: read the known keys, then
// validate. FIELD() keeps the key list readable; it returns from the lambda.
#define FIELD(key, reader, member) \
  if (k == key) return reader(v, path.Field(key), &m->member)

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    ErrorReply* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("code", ReadCode, code);
        FIELD("message", ReadString, message);
        return Status::Ok();
      }));
  if (m->code == sdk::StatusCode::kOk) return Invalid(path.Field("code"), "must not be ok (0)");
  return Status::Ok();
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    RegisterRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("machine_name", ReadString, machine_name);
        FIELD("display_name", ReadString, display_name);
        FIELD("description", ReadString, description);
        FIELD("max_task_count", ReadInt, max_task_count);
        FIELD("cpu_count", ReadInt, cpu_count);
        FIELD("total_memory_mb", ReadInt, total_memory_mb);
        FIELD("version", ReadString, version);
        if (k == "tags") {
          return ReadList(v, path.Field("tags"), kMaxTags, "kMaxTags", &m->tags, ReadString);
        }
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("machine_name"), m->machine_name, false));
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("display_name"), m->display_name, false));
  for (std::size_t i = 0; i < m->tags.size(); ++i) {
    SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("tags").Index(i), m->tags[i], true));
  }
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange(path.Field("max_task_count"), m->max_task_count, 0, kMaxSlots));
  SCALEOUT_RETURN_IF_ERROR(CheckRange(path.Field("cpu_count"), m->cpu_count, 0, 65536));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("total_memory_mb"), m->total_memory_mb, 0, kInt64Max));
  return CheckName(path.Field("version"), m->version, false);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    RegisterReply* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("enabled", ReadBool, enabled);
        FIELD("lease_interval_ms", ReadInt, lease_interval_ms);
        FIELD("task_heartbeat_interval_ms", ReadInt, task_heartbeat_interval_ms);
        FIELD("agent_heartbeat_interval_ms", ReadInt, agent_heartbeat_interval_ms);
        FIELD("master_time_ms", ReadInt, master_time_ms);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  SCALEOUT_RETURN_IF_ERROR(CheckInterval(path.Field("lease_interval_ms"), m->lease_interval_ms));
  SCALEOUT_RETURN_IF_ERROR(
      CheckInterval(path.Field("task_heartbeat_interval_ms"), m->task_heartbeat_interval_ms));
  SCALEOUT_RETURN_IF_ERROR(
      CheckInterval(path.Field("agent_heartbeat_interval_ms"), m->agent_heartbeat_interval_ms));
  return CheckTime(path.Field("master_time_ms"), m->master_time_ms);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    AgentHeartbeatRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("running_tasks", ReadInt, running_tasks);
        FIELD("cpu_percent", ReadDouble, cpu_percent);
        FIELD("free_memory_mb", ReadInt, free_memory_mb);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  SCALEOUT_RETURN_IF_ERROR(CheckRange(path.Field("running_tasks"), m->running_tasks, 0, kMaxSlots));
  SCALEOUT_RETURN_IF_ERROR(CheckRange(path.Field("cpu_percent"), m->cpu_percent, 0.0, 100.0));
  return CheckRange<std::int64_t>(path.Field("free_memory_mb"), m->free_memory_mb, 0, kInt64Max);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    AgentHeartbeatReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    FIELD("enabled", ReadBool, enabled);
    return Status::Ok();
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    TaskParameter* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("object_type", ReadInt, object_type);
        FIELD("name", ReadString, name);
        FIELD("value", ReadString, value);
        FIELD("data_type", ReadString, data_type);
        FIELD("sensitive", ReadBool, sensitive);
        return Status::Ok();
      }));
  if (m->object_type != kObjectTypeProject && m->object_type != kObjectTypePackage &&
      m->object_type != kObjectTypeExecution) {
    return Invalid(path.Field("object_type"),
                   "must be 20 (project), 30 (package) or 50 (execution), got " +
                       std::to_string(m->object_type));
  }
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("name"), m->name, true));
  return CheckName(path.Field("data_type"), m->data_type, false);
}

Status CheckLoggingLevel(const Path& path, std::int32_t level) {
  if ((level >= 0 && level <= 4) || level == 100) return Status::Ok();
  return Invalid(path, "must be 0..4 or 100 (custom), got " + std::to_string(level));
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    TaskAssignment* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("task_id", ReadString, task_id);
        FIELD("execution_id", ReadInt, execution_id);
        FIELD("attempt", ReadInt, attempt);
        FIELD("lease_epoch", ReadInt, lease_epoch);
        FIELD("lease_expires_at_ms", ReadInt, lease_expires_at_ms);
        FIELD("lease_interval_ms", ReadInt, lease_interval_ms);
        FIELD("folder", ReadString, folder);
        FIELD("project", ReadString, project);
        FIELD("project_id", ReadInt, project_id);
        FIELD("project_version", ReadInt, project_version);
        FIELD("package_name", ReadString, package_name);
        FIELD("logging_level", ReadInt, logging_level);
        FIELD("executor", ReadString, executor);
        if (k == "parameters") {
          return ReadList(v, path.Field("parameters"), limits.max_array, "DecodeLimits.max_array",
                          &m->parameters,
                          [&](const msgpack::object& item, const Path& p, TaskParameter* out) {
                            return DecodeObject(&item, p, limits, out);
                          });
        }
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("task_id"), &m->task_id));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("execution_id"), m->execution_id, 1, kInt64Max));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange(path.Field("attempt"), m->attempt, 1, std::numeric_limits<std::int32_t>::max()));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("lease_epoch"), m->lease_epoch, 1, kInt64Max));
  SCALEOUT_RETURN_IF_ERROR(CheckTime(path.Field("lease_expires_at_ms"), m->lease_expires_at_ms));
  SCALEOUT_RETURN_IF_ERROR(CheckInterval(path.Field("lease_interval_ms"), m->lease_interval_ms));
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("folder"), m->folder, false));
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("project"), m->project, false));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("project_id"), m->project_id, 0, kInt64Max));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("project_version"), m->project_version, 0, kInt64Max));
  SCALEOUT_RETURN_IF_ERROR(CheckName(path.Field("package_name"), m->package_name, false));
  SCALEOUT_RETURN_IF_ERROR(CheckLoggingLevel(path.Field("logging_level"), m->logging_level));
  return CheckName(path.Field("executor"), m->executor, true);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    GetProjectRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("project_id", ReadInt, project_id);
        FIELD("project_version", ReadInt, project_version);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("project_id"), m->project_id, 1, kInt64Max));
  return CheckRange<std::int64_t>(path.Field("project_version"), m->project_version, 0, kInt64Max);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    ProjectFile* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("path", ReadString, path);
        FIELD("content", ReadBin, content);
        FIELD("sha256", ReadString, sha256);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckRelativePath(path.Field("path"), m->path));
  std::optional<std::string> digest = NormalizeThumbprint(m->sha256, 64);
  if (!digest) {
    return Invalid(path.Field("sha256"), "must be 64 hex digits, got " + Quote(m->sha256));
  }
  m->sha256 = std::move(*digest);
  return Status::Ok();
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    GetProjectReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    if (k != "files") return Status::Ok();
    return ReadList(v, path.Field("files"), limits.max_array, "DecodeLimits.max_array", &m->files,
                    [&](const msgpack::object& item, const Path& p, ProjectFile* out) {
                      return DecodeObject(&item, p, limits, out);
                    });
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&, TaskLease* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("task_id", ReadString, task_id);
        FIELD("lease_epoch", ReadInt, lease_epoch);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("task_id"), &m->task_id));
  return CheckRange<std::int64_t>(path.Field("lease_epoch"), m->lease_epoch, 1, kInt64Max);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    TaskHeartbeatRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        if (k == "tasks") {
          return ReadList(v, path.Field("tasks"), limits.max_tasks_per_reply,
                          "DecodeLimits.max_tasks_per_reply", &m->tasks,
                          [&](const msgpack::object& item, const Path& p, TaskLease* out) {
                            return DecodeObject(&item, p, limits, out);
                          });
        }
        return Status::Ok();
      }));
  return CheckGuid(path.Field("agent_id"), &m->agent_id);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    TaskLeaseStatus* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("task_id", ReadString, task_id);
        FIELD("status", ReadEnum, status);
        FIELD("lease_expires_at_ms", ReadInt, lease_expires_at_ms);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("task_id"), &m->task_id));
  if (LeaseStatusName(m->status) == "invalid") {
    return Invalid(path.Field("status"),
                   "must be 1 (renewed), 2 (stale), 3 (stop_requested) or 4 (unknown), got " +
                       std::to_string(static_cast<int>(m->status)));
  }
  return CheckTime(path.Field("lease_expires_at_ms"), m->lease_expires_at_ms);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    TaskHeartbeatReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    if (k != "tasks") return Status::Ok();
    return ReadList(v, path.Field("tasks"), limits.max_tasks_per_reply,
                    "DecodeLimits.max_tasks_per_reply", &m->tasks,
                    [&](const msgpack::object& item, const Path& p, TaskLeaseStatus* out) {
                      return DecodeObject(&item, p, limits, out);
                    });
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    EventMessage* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("execution_id", ReadInt, execution_id);
        FIELD("task_id", ReadString, task_id);
        FIELD("event_message_guid", ReadString, event_message_guid);
        FIELD("message_time_ms", ReadInt, message_time_ms);
        FIELD("message_type", ReadInt, message_type);
        FIELD("message_source_type", ReadInt, message_source_type);
        FIELD("message_source", ReadString, message_source);
        FIELD("message", ReadString, message);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("execution_id"), m->execution_id, 1, kInt64Max));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("task_id"), &m->task_id));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("event_message_guid"), &m->event_message_guid));
  SCALEOUT_RETURN_IF_ERROR(CheckTime(path.Field("message_time_ms"), m->message_time_ms));
  SCALEOUT_RETURN_IF_ERROR(CheckRange(path.Field("message_type"), m->message_type, -1, 32767));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange(path.Field("message_source_type"), m->message_source_type, 0, 32767));
  return CheckName(path.Field("message_source"), m->message_source, false);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    ReportEventsRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("batch_id", ReadString, batch_id);
        if (k == "events") {
          return ReadList(v, path.Field("events"), limits.max_events_per_batch,
                          "DecodeLimits.max_events_per_batch", &m->events,
                          [&](const msgpack::object& item, const Path& p, EventMessage* out) {
                            return DecodeObject(&item, p, limits, out);
                          });
        }
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  return CheckGuid(path.Field("batch_id"), &m->batch_id);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    ReportEventsReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    FIELD("accepted", ReadBool, accepted);
    return Status::Ok();
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    TaskResult* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("task_id", ReadString, task_id);
        FIELD("lease_epoch", ReadInt, lease_epoch);
        FIELD("result", ReadEnum, result);
        FIELD("exit_code", ReadInt, exit_code);
        FIELD("message", ReadString, message);
        FIELD("start_time_ms", ReadInt, start_time_ms);
        FIELD("end_time_ms", ReadInt, end_time_ms);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("task_id"), &m->task_id));
  SCALEOUT_RETURN_IF_ERROR(
      CheckRange<std::int64_t>(path.Field("lease_epoch"), m->lease_epoch, 1, kInt64Max));
  if (m->result == TaskOutcome::kUnspecified || TaskOutcomeName(m->result) == "invalid") {
    return Invalid(path.Field("result"), "must be 1 (succeeded), 2 (failed) or 3 (canceled), got " +
                                             std::to_string(static_cast<int>(m->result)));
  }
  SCALEOUT_RETURN_IF_ERROR(CheckTime(path.Field("start_time_ms"), m->start_time_ms));
  SCALEOUT_RETURN_IF_ERROR(CheckTime(path.Field("end_time_ms"), m->end_time_ms));
  if (m->start_time_ms != 0 && m->end_time_ms != 0 && m->end_time_ms < m->start_time_ms) {
    return Invalid(path.Field("end_time_ms"), "must not be before start_time_ms (" +
                                                  std::to_string(m->start_time_ms) + "), got " +
                                                  std::to_string(m->end_time_ms));
  }
  return Status::Ok();
}

// A list of results (or of their acks) as the reports and the requests for
// work carry it: each item decoded on its own, at most max_tasks_per_reply.
Status ReadResults(const msgpack::object& v, const Path& path, const DecodeLimits& limits,
                   std::vector<TaskResult>* out) {
  return ReadList(v, path, limits.max_tasks_per_reply, "DecodeLimits.max_tasks_per_reply", out,
                  [&](const msgpack::object& item, const Path& p, TaskResult* result) {
                    return DecodeObject(&item, p, limits, result);
                  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    ReportResultsRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        if (k == "results") return ReadResults(v, path.Field("results"), limits, &m->results);
        return Status::Ok();
      }));
  return CheckGuid(path.Field("agent_id"), &m->agent_id);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&, ResultAck* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("task_id", ReadString, task_id);
        FIELD("code", ReadCode, code);
        FIELD("message", ReadString, message);
        return Status::Ok();
      }));
  return CheckGuid(path.Field("task_id"), &m->task_id);
}

// The acks of a list of results, likewise.
Status ReadAcks(const msgpack::object& v, const Path& path, const DecodeLimits& limits,
                std::vector<ResultAck>* out) {
  return ReadList(v, path, limits.max_tasks_per_reply, "DecodeLimits.max_tasks_per_reply", out,
                  [&](const msgpack::object& item, const Path& p, ResultAck* ack) {
                    return DecodeObject(&item, p, limits, ack);
                  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    ReportResultsReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    if (k != "results") return Status::Ok();
    return ReadAcks(v, path.Field("results"), limits, &m->results);
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    RequestTasksRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("agent_id", ReadString, agent_id);
        FIELD("free_slots", ReadInt, free_slots);
        FIELD("wait_ms", ReadInt, wait_ms);
        if (k == "results") return ReadResults(v, path.Field("results"), limits, &m->results);
        return Status::Ok();
      }));
  SCALEOUT_RETURN_IF_ERROR(CheckGuid(path.Field("agent_id"), &m->agent_id));
  SCALEOUT_RETURN_IF_ERROR(CheckRange(path.Field("free_slots"), m->free_slots, 0, kMaxSlots));
  return CheckRange<std::int64_t>(path.Field("wait_ms"), m->wait_ms, 0, kMaxWaitMs);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits& limits,
                    RequestTasksReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    if (k == "tasks") {
      return ReadList(v, path.Field("tasks"), limits.max_tasks_per_reply,
                      "DecodeLimits.max_tasks_per_reply", &m->tasks,
                      [&](const msgpack::object& item, const Path& p, TaskAssignment* out) {
                        return DecodeObject(&item, p, limits, out);
                      });
    }
    if (k == "result_acks") return ReadAcks(v, path.Field("result_acks"), limits, &m->result_acks);
    return Status::Ok();
  });
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    ManageRequest* m) {
  SCALEOUT_RETURN_IF_ERROR(
      ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
        FIELD("operation", ReadString, operation);
        FIELD("args", ReadStringMap, args);
        return Status::Ok();
      }));
  return CheckName(path.Field("operation"), m->operation, true);
}

Status DecodeObject(const msgpack::object* o, const Path& path, const DecodeLimits&,
                    ManageReply* m) {
  return ForEachField(o, path, [&](std::string_view k, const msgpack::object& v) -> Status {
    FIELD("code", ReadCode, code);
    FIELD("message", ReadString, message);
    FIELD("json", ReadString, json);
    return Status::Ok();
  });
}

#undef FIELD

template <typename T>
Status DecodeBodyImpl(const Message& message, T* out) {
  if (message.type() != T::kType) {
    if constexpr (!std::is_same_v<T, ErrorReply>) {
      if (message.type() == MessageType::kErrorReply) {
        ErrorReply error;
        SCALEOUT_RETURN_IF_ERROR(DecodeBodyImpl(message, &error));
        return ToStatus(error).WithContext("peer");
      }
    }
    return Status::InvalidArgument("expected " + std::string(MessageTypeName(T::kType)) + ", got " +
                                   std::string(MessageTypeName(message.type())));
  }
  *out = T{};
  return DecodeObject(message.parsed().body, Path(MessageTypeName(T::kType)), message.limits(),
                      out);
}

template <typename T>
Status DecodeImpl(sdk::ByteView bytes, T* out, const DecodeLimits& limits) {
  SCALEOUT_ASSIGN_OR_RETURN(const Message message, Message::Parse(bytes, limits));
  return DecodeBodyImpl(message, out);
}

// Reads the envelope's "v" or "t": an unsigned integer, required.
Status ReadEnvelopeUint(const msgpack::object* o, std::string_view name, std::uint64_t* out) {
  if (o == nullptr) {
    return Status::InvalidArgument("envelope." + std::string(name) + " is missing");
  }
  if (o->type != msgpack::type::POSITIVE_INTEGER) {
    return Status::InvalidArgument("envelope." + std::string(name) +
                                   " must be an unsigned integer, got " +
                                   std::string(TypeName(*o)));
  }
  *out = o->via.u64;
  return Status::Ok();
}

}  // namespace

sdk::Result<Message> Message::Parse(sdk::ByteView bytes, const DecodeLimits& limits) {
  if (bytes.empty()) return Status::InvalidArgument("empty message");
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("message is " + Num(bytes.size()) + " bytes, limit " +
                                     Num(limits.max_bytes) + " (DecodeLimits.max_bytes)");
  }
  auto parsed = std::make_shared<Parsed>();
  SCALEOUT_RETURN_IF_ERROR(Unpack(bytes, limits, parsed.get()));
  const msgpack::object& root = parsed->root;
  if (root.type != msgpack::type::MAP) {
    return Status::InvalidArgument("envelope must be a map, got " + std::string(TypeName(root)));
  }
  const msgpack::object* version = nullptr;
  const msgpack::object* type = nullptr;
  for (std::uint32_t i = 0; i < root.via.map.size; ++i) {
    const msgpack::object_kv& kv = root.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    if (key == "v") version = &kv.val;
    if (key == "t") type = &kv.val;
    if (key == "b") parsed->body = &kv.val;
  }
  std::uint64_t v = 0;
  std::uint64_t t = 0;
  SCALEOUT_RETURN_IF_ERROR(ReadEnvelopeUint(version, "v", &v));
  if (v == 0) return Status::InvalidArgument("envelope.v must be at least 1, got 0");
  if (v > kProtocolVersion) {
    return Status::Unimplemented("protocol version " + std::to_string(v) +
                                 " is newer than this peer supports (" +
                                 std::to_string(kProtocolVersion) + "); upgrade this peer");
  }
  SCALEOUT_RETURN_IF_ERROR(ReadEnvelopeUint(type, "t", &t));
  if (t > std::numeric_limits<std::uint16_t>::max() ||
      !IsKnownMessageType(static_cast<MessageType>(t))) {
    return Status::Unimplemented("unknown message type " + std::to_string(t) +
                                 " in protocol version " + std::to_string(v));
  }
  return Message(std::move(parsed), static_cast<std::uint32_t>(v), static_cast<MessageType>(t),
                 limits);
}

#define SCALEOUT_PROTOCOL_DEFINE_CODEC(T)                                             \
  std::string Encode(const T& message) {                                              \
    std::string out;                                                                  \
    EncodeEnvelope(message, &out);                                                    \
    return out;                                                                       \
  }                                                                                   \
  void EncodeTo(const T& message, std::string* out) { EncodeEnvelope(message, out); } \
  sdk::Status Decode(sdk::ByteView bytes, T* out, const DecodeLimits& limits) {       \
    return DecodeImpl(bytes, out, limits);                                            \
  }                                                                                   \
  sdk::Status DecodeBody(const Message& message, T* out) { return DecodeBodyImpl(message, out); }

SCALEOUT_PROTOCOL_DEFINE_CODEC(ErrorReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(RegisterRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(RegisterReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(AgentHeartbeatRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(AgentHeartbeatReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(RequestTasksRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(RequestTasksReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(GetProjectRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(GetProjectReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(TaskHeartbeatRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(TaskHeartbeatReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ReportEventsRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ReportEventsReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ReportResultsRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ReportResultsReply)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ManageRequest)
SCALEOUT_PROTOCOL_DEFINE_CODEC(ManageReply)

#undef SCALEOUT_PROTOCOL_DEFINE_CODEC

std::string EncodeError(const sdk::Status& status) {
  ErrorReply reply;
  if (status.ok()) {
    reply.message = "error reply without an error";
  } else {
    reply.code = status.code();
    reply.message = status.message();
  }
  return Encode(reply);
}

sdk::Status ToStatus(const ErrorReply& reply) {
  if (reply.code == sdk::StatusCode::kOk) {
    return Status::Internal("error reply without an error: " + reply.message);
  }
  return Status(reply.code, reply.message);
}

}  // namespace scaleout::core::protocol

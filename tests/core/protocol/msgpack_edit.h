// Test helper: unpack an encoded message, edit its msgpack tree, pack it
// again. Lets tests build inputs our encoder never produces (wrong types,
// unknown fields, missing fields, newer versions).
#ifndef SCALEOUT_TESTS_CORE_PROTOCOL_MSGPACK_EDIT_H_
#define SCALEOUT_TESTS_CORE_PROTOCOL_MSGPACK_EDIT_H_

#include <msgpack.hpp>

#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace scaleout::core::protocol::testing {

class MsgpackEdit {
 public:
  explicit MsgpackEdit(const std::string& bytes)
      : handle_(msgpack::unpack(bytes.data(), bytes.size())), root_(handle_.get()) {}

  msgpack::object& root() { return root_; }
  msgpack::object& body() { return *Find(root_, "b"); }
  msgpack::zone& zone() { return *handle_.zone(); }

  // The value under `key` in `map`, or null.
  static msgpack::object* Find(msgpack::object& map, std::string_view key) {
    if (map.type != msgpack::type::MAP) throw std::logic_error("not a map");
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
      msgpack::object_kv& kv = map.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR &&
          std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
        return &kv.val;
      }
    }
    return nullptr;
  }

  // `map`[key] = value, appending the key when absent.
  void Set(msgpack::object& map, std::string_view key, const msgpack::object& value) {
    if (msgpack::object* existing = Find(map, key)) {
      *existing = value;
      return;
    }
    const std::uint32_t n = map.via.map.size;
    auto* kvs = static_cast<msgpack::object_kv*>(
        zone().allocate_align(sizeof(msgpack::object_kv) * (n + 1)));
    for (std::uint32_t i = 0; i < n; ++i) kvs[i] = map.via.map.ptr[i];
    kvs[n].key = Str(key);
    kvs[n].val = value;
    map.via.map.ptr = kvs;
    map.via.map.size = n + 1;
  }

  void Erase(msgpack::object& map, std::string_view key) {
    std::uint32_t out = 0;
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
      const msgpack::object_kv& kv = map.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR &&
          std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
        continue;
      }
      map.via.map.ptr[out++] = kv;
    }
    map.via.map.size = out;
  }

  msgpack::object Str(std::string_view s) { return msgpack::object(std::string(s), zone()); }

  // A value from any type msgpack-c can convert (copied into the zone).
  template <typename T>
  msgpack::object Value(const T& v) {
    return msgpack::object(v, zone());
  }

  std::string Pack() const {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, root_);
    return std::string(buffer.data(), buffer.size());
  }

 private:
  msgpack::object_handle handle_;
  msgpack::object root_;  // shallow copy; children live in handle_'s zone
};

}  // namespace scaleout::core::protocol::testing

#endif  // SCALEOUT_TESTS_CORE_PROTOCOL_MSGPACK_EDIT_H_

// JsonWriter: one JSON object or array written straight into a string,
// without a DOM (nlohmann::json allocates a node per value). For the few
// documents written once per task on the worker's hot path (the task host's
// spec, event spool lines); they read back with nlohmann::json as before.
#ifndef SCALEOUT_CORE_COMMON_JSON_WRITER_H_
#define SCALEOUT_CORE_COMMON_JSON_WRITER_H_

#include <string>
#include <string_view>

namespace scaleout::core {

// Appends `s` as a JSON string, as nlohmann's dump() writes it: the escapes
// JSON requires, everything else as is. A string that is not UTF-8 (rare:
// package output, a parameter value) goes through nlohmann itself, which
// replaces the bad bytes with U+FFFD.
void AppendJsonString(std::string& out, std::string_view s);

// Writes one JSON object or array into `out`, a comma before every member
// but the first. Begin and End bracket it. Not thread-safe; `out` must
// outlive the writer.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  void Begin(char bracket) {
    Separate();
    out_ += bracket;
    first_ = true;
  }
  void End(char bracket) {
    out_ += bracket;
    first_ = false;
  }
  void Key(std::string_view key) {
    Separate();
    AppendJsonString(out_, key);
    out_ += ':';
    first_ = true;  // the value follows without a comma
  }
  template <typename Integer>
  void Int(std::string_view key, Integer value) {
    Key(key);
    out_ += std::to_string(value);
    first_ = false;
  }
  void Text(std::string_view key, std::string_view value) {
    Key(key);
    AppendJsonString(out_, value);
    first_ = false;
  }
  // A value that is already JSON text (precondition: one valid JSON
  // value), after Key().
  void Raw(std::string_view json_value) {
    out_ += json_value;
    first_ = false;
  }
  void Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    first_ = false;
  }

 private:
  void Separate() {
    if (!first_) out_ += ',';
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace scaleout::core

#endif  // SCALEOUT_CORE_COMMON_JSON_WRITER_H_

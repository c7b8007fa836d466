// ConfigView: a plugin's own configuration section, read-only.
//
// Every plugin gets the key/value pairs of its section (`[storage.sqlite]`
// in the master's config file, say), already split from the rest. Values are
// strings; the typed getters parse them and say exactly which key was bad.
// A plugin should call CheckKnownKeys() in its create() so that a typo in a
// config file is an error, not a silently ignored setting.
//
// Ownership: borrows the map; valid only during the call it is passed to
// (copy what you keep). Thread-safety: read-only, safe from any thread.
#ifndef SCALEOUT_SDK_CONFIG_H_
#define SCALEOUT_SDK_CONFIG_H_

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::sdk {

class ConfigView {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  // `section` names the section in error messages ("storage.sqlite").
  ConfigView(const Map& values, std::string_view section) : values_(&values), section_(section) {}

  const Map& values() const noexcept { return *values_; }
  std::string_view section() const noexcept { return section_; }
  bool Has(std::string_view key) const { return values_->find(key) != values_->end(); }

  std::string GetString(std::string_view key, std::string_view fallback = {}) const {
    auto it = values_->find(key);
    return it == values_->end() ? std::string(fallback) : it->second;
  }

  // Parses a signed integer in [min, max]; `fallback` when the key is absent.
  Result<std::int64_t> GetInt(std::string_view key, std::int64_t fallback,
                              std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const {
    auto it = values_->find(key);
    if (it == values_->end()) return fallback;
    const std::string& text = it->second;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::InvalidArgument(Where(key) + " must be an integer, got '" + text + "'");
    }
    if (value < min || value > max) {
      return Status::InvalidArgument(Where(key) + " must be between " + std::to_string(min) +
                                     " and " + std::to_string(max) + ", got " + text);
    }
    return value;
  }

  // Accepts true/false, 1/0, yes/no, on/off (any case).
  Result<bool> GetBool(std::string_view key, bool fallback) const {
    auto it = values_->find(key);
    if (it == values_->end()) return fallback;
    std::string v;
    for (char c : it->second) v += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    return Status::InvalidArgument(Where(key) + " must be true or false, got '" + it->second + "'");
  }

  // Fails naming the first key not in `known`, so typos are caught at start.
  Status CheckKnownKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : *values_) {
      bool found = false;
      for (std::string_view k : known) found = found || (k == key);
      if (!found) {
        std::string list;
        for (std::string_view k : known) {
          if (!list.empty()) list += ", ";
          list += k;
        }
        return Status::InvalidArgument("unknown setting " + Where(key) +
                                       "; known settings: " + (list.empty() ? "(none)" : list));
      }
    }
    return Status::Ok();
  }

 private:
  std::string Where(std::string_view key) const {
    return "'" + std::string(section_) + (section_.empty() ? "" : ".") + std::string(key) + "'";
  }

  const Map* values_;
  std::string_view section_;
};

}  // namespace scaleout::sdk

#endif  // SCALEOUT_SDK_CONFIG_H_

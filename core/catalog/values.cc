#include "core/catalog/values.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>

#include "core/common/ascii.h"

namespace scaleout::core::catalog::internal {
namespace {

struct IntRange {
  std::string_view type;
  long double min;
  long double max;
};

constexpr std::array kIntegerTypes = {
    IntRange{"Byte", 0, 255},
    IntRange{"SByte", -128, 127},
    IntRange{"Int16", -32768, 32767},
    IntRange{"Int32", -2147483648.0L, 2147483647.0L},
    IntRange{"Int64", static_cast<long double>(std::numeric_limits<std::int64_t>::min()),
             static_cast<long double>(std::numeric_limits<std::int64_t>::max())},
    IntRange{"UInt32", 0, 4294967295.0L},
    IntRange{"UInt64", 0, static_cast<long double>(std::numeric_limits<std::uint64_t>::max())},
};

constexpr std::array<std::string_view, 6> kOtherTypes = {"Boolean", "DateTime", "Decimal",
                                                         "Double",  "Single",   "String"};

constexpr std::array kSystem = {
    SystemParameter{"LOGGING_LEVEL", "Int32", "1"},
    SystemParameter{"CUSTOMIZED_LOGGING_LEVEL", "String", std::nullopt},
    SystemParameter{"SYNCHRONIZED", "Boolean", "0"},
    SystemParameter{"DUMP_ON_ERROR", "Boolean", "0"},
    SystemParameter{"DUMP_ON_EVENT", "Boolean", "0"},
    SystemParameter{"DUMP_EVENT_CODE", "String", ""},
    SystemParameter{"CALLER_INFO", "String", std::nullopt},
};

bool ParsesAsInteger(std::string_view value, const IntRange& range) {
  if (range.min >= 0) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    return ec == std::errc() && end == value.data() + value.size() &&
           static_cast<long double>(v) <= range.max;
  }
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  return ec == std::errc() && end == value.data() + value.size() &&
         static_cast<long double>(v) >= range.min && static_cast<long double>(v) <= range.max;
}

bool ParsesAsNumber(std::string_view value) {
  if (value.empty()) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  return ec == std::errc() && end == value.data() + value.size();
}

// YYYY-MM-DD, optionally followed by 'T' or ' ' and a time: the shape only.
bool LooksLikeDateTime(std::string_view value) {
  if (value.size() < 10) return false;
  for (std::size_t i = 0; i < 10; ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? value[i] != '-' : !std::isdigit(static_cast<unsigned char>(value[i]))) return false;
  }
  return value.size() == 10 || value[10] == 'T' || value[10] == ' ';
}

}  // namespace

bool IsKnownDataType(std::string_view data_type) {
  for (const IntRange& r : kIntegerTypes) {
    if (r.type == data_type) return true;
  }
  for (std::string_view t : kOtherTypes) {
    if (t == data_type) return true;
  }
  return false;
}

std::string KnownDataTypes() {
  return "Boolean, Byte, DateTime, Decimal, Double, Int16, Int32, Int64, SByte, Single, String, "
         "UInt32, UInt64";
}

sdk::Status CheckValue(std::string_view label, std::string_view data_type, std::string_view value) {
  bool ok = false;
  std::string expected;
  if (data_type == "String") return sdk::Status::Ok();
  if (data_type == "Boolean") {
    const std::string v = AsciiLower(value);
    ok = v == "0" || v == "1" || v == "true" || v == "false";
    expected = "true, false, 1 or 0";
  } else if (data_type == "DateTime") {
    ok = LooksLikeDateTime(value);
    expected = "a date such as 2024-05-01 or 2024-05-01T13:45:00";
  } else if (data_type == "Decimal" || data_type == "Double" || data_type == "Single") {
    ok = ParsesAsNumber(value);
    expected = "a number";
  } else {
    for (const IntRange& r : kIntegerTypes) {
      if (r.type != data_type) continue;
      ok = ParsesAsInteger(value, r);
      expected = "an integer from " + std::to_string(static_cast<long long>(r.min)) + " to " +
                 (r.type == "UInt64" ? std::string("18446744073709551615")
                                     : std::to_string(static_cast<long long>(r.max)));
    }
    if (expected.empty()) {
      return sdk::Status::InvalidArgument(std::string(label) + " has unknown data type '" +
                                          std::string(data_type) + "'");
    }
  }
  if (ok) return sdk::Status::Ok();
  std::string shown(value.substr(0, 40));
  return sdk::Status::InvalidArgument(std::string(label) + " is " + std::string(data_type) + "; '" +
                                      shown + "' is not " + expected);
}

std::span<const SystemParameter> SystemParameters() { return kSystem; }

sdk::Status CheckSystemValue(std::string_view name, std::string_view value) {
  if (name == "LOGGING_LEVEL") {
    for (std::string_view allowed : {"0", "1", "2", "3", "4", "100"}) {
      if (value == allowed) return sdk::Status::Ok();
    }
    return sdk::Status::InvalidArgument(
        "LOGGING_LEVEL must be 0 (none), 1 (basic), 2 (performance), 3 (verbose), 4 (runtime "
        "lineage) or 100 (custom), got '" +
        std::string(value.substr(0, 40)) + "'");
  }
  if (name == "DUMP_EVENT_CODE") {
    // Codes separated by ';', each 0x followed by hex digits (0xC020801C).
    std::size_t start = 0;
    while (start < value.size()) {
      std::size_t end = value.find(';', start);
      if (end == std::string_view::npos) end = value.size();
      std::string_view code = value.substr(start, end - start);
      bool good = code.size() > 2 && code.size() <= 10 && code[0] == '0' &&
                  (code[1] == 'x' || code[1] == 'X');
      for (std::size_t i = 2; good && i < code.size(); ++i) {
        good = std::isxdigit(static_cast<unsigned char>(code[i])) != 0;
      }
      if (!good && !code.empty()) {
        return sdk::Status::InvalidArgument(
            "DUMP_EVENT_CODE must be event codes separated by ';', each like 0xC020801C; got '" +
            std::string(code.substr(0, 40)) + "'");
      }
      start = end + 1;
    }
  }
  return sdk::Status::Ok();
}

}  // namespace scaleout::core::catalog::internal

// Internal: parameter data types and the system (object_type 50) parameters.
// Not part of the public API. Pure functions; thread-safe.
#ifndef SCALEOUT_CORE_CATALOG_VALUES_H_
#define SCALEOUT_CORE_CATALOG_VALUES_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::core::catalog::internal {

// True for the SSIS parameter data types scaleout accepts.
bool IsKnownDataType(std::string_view data_type);
// "Boolean, Byte, ..." for error messages.
std::string KnownDataTypes();
// OK when `value` parses as `data_type`; else kInvalidArgument naming `label`.
sdk::Status CheckValue(std::string_view label, std::string_view data_type, std::string_view value);

struct SystemParameter {
  std::string_view name;
  std::string_view data_type;
  std::optional<std::string_view> default_value;
};
// LOGGING_LEVEL, CUSTOMIZED_LOGGING_LEVEL, SYNCHRONIZED, DUMP_ON_ERROR,
// DUMP_ON_EVENT, DUMP_EVENT_CODE, CALLER_INFO.
std::span<const SystemParameter> SystemParameters();
// Extra checks beyond the type (LOGGING_LEVEL's values, DUMP_EVENT_CODE's form).
sdk::Status CheckSystemValue(std::string_view name, std::string_view value);

}  // namespace scaleout::core::catalog::internal

#endif  // SCALEOUT_CORE_CATALOG_VALUES_H_

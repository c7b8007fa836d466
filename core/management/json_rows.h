// JSON forms of catalog rows, as the management API returns them.
//
// Times are UTC ISO-8601 text ("2026-01-31T12:00:00.000Z") or null; statuses
// carry both the SSIS code ("status": 7) and its name ("status_name":
// "succeeded"). Pure functions; thread-safe.
#ifndef SCALEOUT_CORE_MANAGEMENT_JSON_ROWS_H_
#define SCALEOUT_CORE_MANAGEMENT_JSON_ROWS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/catalog/environments.h"
#include "core/catalog/principals.h"
#include "core/catalog/schedules.h"
#include "core/catalog/types.h"
#include "core/management/catalog_queries.h"

namespace scaleout::core::management {

nlohmann::json TimeJson(std::optional<std::int64_t> unix_millis);
nlohmann::json ToJson(const catalog::WorkerAgent& w);
nlohmann::json ToJson(const catalog::Execution& e);
nlohmann::json ToJson(const catalog::Task& t);
nlohmann::json ToJson(const catalog::ParameterValue& p);
nlohmann::json ToJson(const catalog::Operation& o);
nlohmann::json ToJson(const catalog::ProjectVersion& v);
nlohmann::json ToJson(const catalog::EventMessage& m);
nlohmann::json ToJson(const catalog::Schedule& s);
nlohmann::json ToJson(const catalog::Principal& p);  // never the credential digest of a token
nlohmann::json ToJson(const ProjectRow& p);
nlohmann::json ToJson(const FolderRow& f);
nlohmann::json ToJson(const PackageRow& p);
nlohmann::json ToJson(const catalog::Environment& e);  // sensitive values null
nlohmann::json ToJson(const catalog::EnvironmentReference& r);
nlohmann::json ToJson(const catalog::ObjectParameter& p);

// A JSON array of ToJson(row) for each row.
template <typename T>
nlohmann::json JsonArray(const std::vector<T>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const T& row : rows) out.push_back(ToJson(row));
  return out;
}

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_JSON_ROWS_H_

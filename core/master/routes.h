// The master's request targets. Worker routes carry protocol envelopes
// (msgpack); management routes are added by the management API.
#ifndef SCALEOUT_CORE_MASTER_ROUTES_H_
#define SCALEOUT_CORE_MASTER_ROUTES_H_

#include <string_view>

namespace scaleout::core::master {

inline constexpr std::string_view kRouteRegister = "/v1/register";
inline constexpr std::string_view kRouteAgentHeartbeat = "/v1/heartbeat";
inline constexpr std::string_view kRouteRequestTasks = "/v1/tasks/request";
inline constexpr std::string_view kRouteTaskHeartbeat = "/v1/tasks/heartbeat";
inline constexpr std::string_view kRouteReportEvents = "/v1/events";
inline constexpr std::string_view kRouteReportResults = "/v1/results";
inline constexpr std::string_view kRouteGetProject = "/v1/projects/get";

}  // namespace scaleout::core::master

#endif  // SCALEOUT_CORE_MASTER_ROUTES_H_

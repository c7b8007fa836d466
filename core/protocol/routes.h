// The master's worker-facing request targets: each is a POST whose body is
// a protocol envelope (codec.h) of the matching request message, answered
// with the matching reply. The master serves them (core/master/
// worker_service.cc) and the worker calls them (core/worker/
// master_client.cc); the management API adds its own routes.
#ifndef SCALEOUT_CORE_PROTOCOL_ROUTES_H_
#define SCALEOUT_CORE_PROTOCOL_ROUTES_H_

#include <string_view>

namespace scaleout::core::protocol {

inline constexpr std::string_view kRouteRegister = "/v1/register";
inline constexpr std::string_view kRouteAgentHeartbeat = "/v1/heartbeat";
inline constexpr std::string_view kRouteRequestTasks = "/v1/tasks/request";
inline constexpr std::string_view kRouteTaskHeartbeat = "/v1/tasks/heartbeat";
inline constexpr std::string_view kRouteReportEvents = "/v1/events";
inline constexpr std::string_view kRouteReportResults = "/v1/results";
inline constexpr std::string_view kRouteGetProject = "/v1/projects/get";

}  // namespace scaleout::core::protocol

#endif  // SCALEOUT_CORE_PROTOCOL_ROUTES_H_

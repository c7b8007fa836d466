// Explicit size limits for everything a caller can store in the catalog.
//
// Lengths are counted in characters (Unicode code points of the UTF-8 text).
// The SSIS column widths are used where SSIS documents one; every other limit
// is our choice, documented in docs/catalog.md. A value over its limit is
// refused with kInvalidArgument naming the field and the limit; nothing is
// truncated.
#ifndef SCALEOUT_CORE_CATALOG_LIMITS_H_
#define SCALEOUT_CORE_CATALOG_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace scaleout::core::catalog {

inline constexpr std::size_t kMaxNameChars = 128;          // folder, project, parameter, principal
inline constexpr std::size_t kMaxPackageNameChars = 260;   // SSIS nvarchar(260)
inline constexpr std::size_t kMaxDescriptionChars = 1024;  // folder/project description
inline constexpr std::size_t kMaxWorkerTextChars = 256;    // DisplayName, Description, MachineName,
                                                           // UserAccount (SSIS nvarchar(256))
inline constexpr std::size_t kMaxTagsChars = 4000;
inline constexpr std::size_t kMaxParameterValueChars = 4000;
inline constexpr std::size_t kMaxPropertyValueChars = 255;  // configure_catalog (nvarchar(255))
inline constexpr std::size_t kMaxAddressChars = 1024;       // master address, logdb info
inline constexpr std::size_t kMaxMessageChars = 32768;      // one event message / result message
inline constexpr std::size_t kMaxPackageBytes = 64u << 20;  // one package's content
inline constexpr std::size_t kMaxPackagesPerProject = 1000;
inline constexpr std::size_t kMaxParametersPerProject = 5000;
inline constexpr std::size_t kMaxEventsPerBatch = 10000;  // = ExecutionLogMaxBufferLogCount
inline constexpr std::int64_t kMaxRetryCount = 1000;
inline constexpr std::int64_t kMaxTaskCountLimit = 10000;  // a worker's MaxTaskCount
inline constexpr std::int64_t kMaxClaimCount = 1000;       // tasks per ClaimTasks call
inline constexpr std::int64_t kMaxLeaseMillis = 24LL * 3600 * 1000;
inline constexpr std::int64_t kMaxListLimit = 100000;  // rows per view query

}  // namespace scaleout::core::catalog

#endif  // SCALEOUT_CORE_CATALOG_LIMITS_H_

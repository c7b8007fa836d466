// Cron expressions for schedules (UTC).
//
// Accepted forms:
//   "m h dom mon dow"        classic 5 fields (minute hour day-of-month month day-of-week)
//   "s m h dom mon dow"      6 fields, seconds first (as Quartz and many cron libraries)
//   "@every 30s"             a fixed period: a number and s, m, h or d ("@every 1h30m" too)
//   "@hourly", "@daily" ("@midnight"), "@weekly", "@monthly", "@yearly" ("@annually")
// Each field takes '*', a number, a range "a-b", a list "a,b,c" and a step
// "*/n" or "a-b/n". Months and weekdays take names (JAN, MON). Day of week is
// 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day-of-month and
// day-of-week are restricted, a day matching either one matches.
//
// Value type; thread-safe to share once built.
#ifndef SCALEOUT_CORE_MANAGEMENT_CRON_H_
#define SCALEOUT_CORE_MANAGEMENT_CRON_H_

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scaleout/sdk/status.h"

namespace scaleout::core::management {

class CronSchedule {
 public:
  // Errors: kInvalidArgument naming the field and what it accepts.
  static sdk::Result<CronSchedule> Parse(std::string_view expression);

  // The first tick strictly after `after_unix_millis` (UTC ms), or nullopt
  // when there is none within the next five years (e.g. "0 0 31 2 *").
  std::optional<std::int64_t> NextAfter(std::int64_t after_unix_millis) const;

  const std::string& expression() const { return expression_; }

 private:
  CronSchedule() = default;
  std::optional<std::int64_t> NextFieldMatch(std::int64_t after_unix_millis) const;

  std::string expression_;
  std::int64_t every_ms_ = 0;  // @every: a fixed period; the fields are unused
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0..6, Sunday = 0
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

}  // namespace scaleout::core::management

#endif  // SCALEOUT_CORE_MANAGEMENT_CRON_H_

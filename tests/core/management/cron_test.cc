#include "core/management/cron.h"

#include <gtest/gtest.h>

namespace scaleout::core::management {
namespace {

// 2023-11-14T22:13:20Z, a Tuesday.
constexpr std::int64_t kTuesday = 1'700'000'000'000;

std::int64_t Next(std::string_view expression, std::int64_t after = kTuesday) {
  auto cron = CronSchedule::Parse(expression);
  EXPECT_TRUE(cron.ok()) << expression << ": " << cron.status().ToString();
  if (!cron.ok()) return -1;
  return cron->NextAfter(after).value_or(-1);
}

TEST(CronTest, FiveFieldExpressions) {
  EXPECT_EQ(Next("*/15 * * * *"), 1'700'000'100'000);      // 22:15:00
  EXPECT_EQ(Next("* * * * *"), 1'700'000'040'000);         // 22:14:00
  EXPECT_EQ(Next("0 0 * * *"), 1'700'006'400'000);         // Wed 00:00
  EXPECT_EQ(Next("0 9 * * MON-FRI"), 1'700'038'800'000);   // Wed 09:00
  EXPECT_EQ(Next("0 0 1 1 *"), 1'704'067'200'000);         // 2024-01-01
  EXPECT_EQ(Next("0 0 * * 7"), Next("0 0 * * SUN"));       // 7 is Sunday too
  EXPECT_EQ(Next("13,14 22 * * *"), 1'700'000'040'000);    // list: 22:14
  EXPECT_EQ(Next("10-20/5 22 * * *"), 1'700'000'100'000);  // 22:15
}

TEST(CronTest, SecondsFieldAndEvery) {
  EXPECT_EQ(Next("30 * * * * *"), 1'700'000'010'000);  // 22:13:30
  EXPECT_EQ(Next("* * * * * *"), 1'700'000'001'000);
  EXPECT_EQ(Next("@every 1s"), 1'700'000'001'000);
  EXPECT_EQ(Next("@every 1s", kTuesday + 500), 1'700'000'001'000);
  EXPECT_EQ(Next("@every 1h30m", 0), 5'400'000);
  EXPECT_EQ(Next("@daily"), 1'700'006'400'000);
  EXPECT_EQ(Next("@hourly"), 1'700'002'800'000);
}

TEST(CronTest, BothDayFieldsMatchEither) {
  // The 15th (Wednesday) or any Friday: the 15th comes first.
  EXPECT_EQ(Next("0 0 15 * FRI"), 1'700'006'400'000);
}

TEST(CronTest, ImpossibleDateNeverFires) {
  auto cron = CronSchedule::Parse("0 0 31 2 *");
  ASSERT_TRUE(cron.ok());
  EXPECT_FALSE(cron->NextAfter(kTuesday).has_value());
}

TEST(CronTest, BadExpressionsSayWhatIsWrong) {
  for (std::string_view bad : {"", "* * *", "61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                               "*/0 * * * *", "5-1 * * * *", "@every", "@every 0s", "@every 5x",
                               "@fortnightly", "a b c d e", "* * * JAN-X *"}) {
    auto cron = CronSchedule::Parse(bad);
    ASSERT_FALSE(cron.ok()) << "'" << bad << "' was accepted";
    EXPECT_EQ(cron.status().code(), sdk::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(cron.status().message().empty());
  }
  auto minute = CronSchedule::Parse("61 * * * *");
  EXPECT_NE(minute.status().message().find("minute"), std::string::npos)
      << minute.status().message();
}

}  // namespace
}  // namespace scaleout::core::management

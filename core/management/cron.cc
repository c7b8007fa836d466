#include "core/management/cron.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <vector>

namespace scaleout::core::management {
namespace {

using sdk::Status;

struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const char* const* names;  // names for values min.. (nullptr: numbers only)
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr FieldSpec kSecond{"second", 0, 59, nullptr};
constexpr FieldSpec kMinute{"minute", 0, 59, nullptr};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr};
constexpr FieldSpec kDayOfMonth{"day of month", 1, 31, nullptr};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames};
constexpr FieldSpec kDayOfWeek{"day of week", 0, 7, kDayNames};

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == separator) {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  return out;
}

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

Status FieldError(const FieldSpec& spec, std::string_view part) {
  return Status::InvalidArgument(
      "cron " + std::string(spec.name) + " field: '" + std::string(part) + "' is not a value " +
      std::to_string(spec.min) + "-" + std::to_string(spec.max) + (spec.names ? " or a name" : "") +
      ", '*', a range a-b, a list a,b or a step */n");
}

sdk::Result<int> ParseValue(const FieldSpec& spec, std::string_view text) {
  if (text.empty()) return FieldError(spec, text);
  if (spec.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string upper;
    for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const int count = spec.max - spec.min + 1 - (spec.max == 7 ? 1 : 0);
    for (int i = 0; i < count; ++i) {
      if (upper == spec.names[i]) return spec.min + i;
    }
    return FieldError(spec, text);
  }
  if (!std::all_of(text.begin(), text.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
      text.size() > 4) {
    return FieldError(spec, text);
  }
  const int value = std::stoi(std::string(text));
  if (value < spec.min || value > spec.max) return FieldError(spec, text);
  return value;
}

// Sets the bits of one field; returns whether the field was restricted (not '*').
template <std::size_t N>
sdk::Result<bool> ParseField(const FieldSpec& spec, std::string_view text, std::bitset<N>* bits) {
  bool restricted = false;
  for (const std::string& part : Split(text, ',')) {
    std::string range = part;
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string::npos) {
      range = part.substr(0, slash);
      const std::string step_text = part.substr(slash + 1);
      if (step_text.empty() || step_text.size() > 4 ||
          !std::all_of(step_text.begin(), step_text.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        return FieldError(spec, part);
      }
      step = std::stoi(step_text);
      if (step < 1) return FieldError(spec, part);
    }
    int low = spec.min;
    int high = spec.max;
    if (range == "*") {
      if (step != 1) restricted = true;
    } else {
      restricted = true;
      if (auto dash = range.find('-'); dash != std::string::npos) {
        SCALEOUT_ASSIGN_OR_RETURN(low, ParseValue(spec, std::string_view(range).substr(0, dash)));
        SCALEOUT_ASSIGN_OR_RETURN(high, ParseValue(spec, std::string_view(range).substr(dash + 1)));
        if (low > high) return FieldError(spec, part);
      } else {
        SCALEOUT_ASSIGN_OR_RETURN(low, ParseValue(spec, range));
        high = part.find('/') != std::string::npos ? spec.max : low;
      }
    }
    for (int v = low; v <= high; v += step) {
      const int bit = (spec.max == 7 && v == 7) ? 0 : v;  // 7 is Sunday too
      bits->set(static_cast<std::size_t>(bit));
    }
  }
  return restricted;
}

// "1h30m", "10s", "2d" → ms.
sdk::Result<std::int64_t> ParseDuration(std::string_view text) {
  std::int64_t total = 0;
  std::int64_t number = 0;
  bool have_number = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      if (number > 1'000'000'000) break;
      number = number * 10 + (c - '0');
      have_number = true;
      continue;
    }
    std::int64_t unit = 0;
    switch (c) {
      case 's': unit = 1000; break;
      case 'm': unit = 60'000; break;
      case 'h': unit = 3'600'000; break;
      case 'd': unit = 86'400'000; break;
      default: unit = 0;
    }
    if (unit == 0 || !have_number) {
      return Status::InvalidArgument("'@every " + std::string(text) +
                                     "': the period is a number with s, m, h or d, as in "
                                     "'@every 30s' or '@every 1h30m'");
    }
    total += number * unit;
    number = 0;
    have_number = false;
  }
  if (have_number || total <= 0 || total > 366LL * 86'400'000) {
    return Status::InvalidArgument("'@every " + std::string(text) +
                                   "': the period is a number with s, m, h or d (1s to 366d), "
                                   "as in '@every 30s'");
  }
  return total;
}

std::string Macro(std::string_view word) {
  if (word == "@yearly" || word == "@annually") return "0 0 1 1 *";
  if (word == "@monthly") return "0 0 1 * *";
  if (word == "@weekly") return "0 0 * * 0";
  if (word == "@daily" || word == "@midnight") return "0 0 * * *";
  if (word == "@hourly") return "0 * * * *";
  return "";
}

}  // namespace

sdk::Result<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  CronSchedule s;
  s.expression_ = std::string(expression);
  std::vector<std::string> words = Words(expression);
  if (words.size() == 2 && words[0] == "@every") {
    SCALEOUT_ASSIGN_OR_RETURN(s.every_ms_, ParseDuration(words[1]));
    return s;
  }
  if (words.size() == 1 && words[0].starts_with('@')) {
    const std::string fields = Macro(words[0]);
    if (fields.empty()) {
      return Status::InvalidArgument("unknown cron macro '" + words[0] +
                                     "'; use @every <period>, @hourly, @daily, @weekly, @monthly "
                                     "or @yearly");
    }
    words = Words(fields);
  }
  if (words.size() == 5) words.insert(words.begin(), "0");
  if (words.size() != 6) {
    return Status::InvalidArgument(
        "cron expression '" + std::string(expression) +
        "' must have 5 fields (minute hour day-of-month month day-of-week), 6 with seconds "
        "first, or be '@every 30s'-style");
  }
  SCALEOUT_RETURN_IF_ERROR(ParseField(kSecond, words[0], &s.seconds_).status());
  SCALEOUT_RETURN_IF_ERROR(ParseField(kMinute, words[1], &s.minutes_).status());
  SCALEOUT_RETURN_IF_ERROR(ParseField(kHour, words[2], &s.hours_).status());
  SCALEOUT_ASSIGN_OR_RETURN(s.dom_restricted_,
                            ParseField(kDayOfMonth, words[3], &s.days_of_month_));
  SCALEOUT_RETURN_IF_ERROR(ParseField(kMonth, words[4], &s.months_).status());
  SCALEOUT_ASSIGN_OR_RETURN(s.dow_restricted_, ParseField(kDayOfWeek, words[5], &s.days_of_week_));
  return s;
}

std::optional<std::int64_t> CronSchedule::NextAfter(std::int64_t after_unix_millis) const {
  if (every_ms_ > 0) {
    // Aligned to the epoch, so every master computes the same ticks.
    const std::int64_t base = after_unix_millis >= 0 ? after_unix_millis / every_ms_ : -1;
    return (base + 1) * every_ms_;
  }
  return NextFieldMatch(after_unix_millis);
}

std::optional<std::int64_t> CronSchedule::NextFieldMatch(std::int64_t after_unix_millis) const {
  // Start at the next whole second after `after`.
  std::time_t t = static_cast<std::time_t>(after_unix_millis / 1000) + 1;
  if (after_unix_millis < 0) t = 0;
  const std::time_t limit = t + 5LL * 366 * 86'400;
  std::tm tm{};
  while (t <= limit) {
    gmtime_r(&t, &tm);
    if (!months_.test(static_cast<std::size_t>(tm.tm_mon) + 1)) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    const bool dom = days_of_month_.test(static_cast<std::size_t>(tm.tm_mday));
    const bool dow = days_of_week_.test(static_cast<std::size_t>(tm.tm_wday));
    const bool day_ok = (dom_restricted_ && dow_restricted_) ? (dom || dow) : (dom && dow);
    if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!hours_.test(static_cast<std::size_t>(tm.tm_hour))) {
      tm.tm_hour += 1;
      tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!minutes_.test(static_cast<std::size_t>(tm.tm_min))) {
      tm.tm_min += 1;
      tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!seconds_.test(static_cast<std::size_t>(tm.tm_sec))) {
      t += 1;
      continue;
    }
    return static_cast<std::int64_t>(t) * 1000;
  }
  return std::nullopt;
}

}  // namespace scaleout::core::management

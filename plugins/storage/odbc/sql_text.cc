#include "plugins/storage/odbc/sql_text.h"

namespace scaleout::plugins::odbc {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// If a comment starts at `i`, returns the index just past it; else `i`.
std::size_t SkipComment(std::string_view sql, std::size_t i) {
  if (sql.substr(i, 2) == "--") {
    const std::size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (sql.substr(i, 2) == "/*") {
    const std::size_t end = sql.find("*/", i + 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
  }
  return i;
}

// If a dollar quote opens at `i` ($$ or $tag$), returns the index past its
// closing tag; else `i`.
std::size_t SkipDollarQuote(std::string_view sql, std::size_t i) {
  if (sql[i] != '$' || (i > 0 && IsIdentifierChar(sql[i - 1]))) return i;
  std::size_t j = i + 1;
  while (j < sql.size() && IsIdentifierChar(sql[j]) && !(sql[j] >= '0' && sql[j] <= '9')) ++j;
  if (j >= sql.size() || sql[j] != '$') return i;  // "$1" and the like are not quotes
  const std::string_view tag = sql.substr(i, j - i + 1);
  const std::size_t end = sql.find(tag, j + 1);
  return end == std::string_view::npos ? sql.size() : end + tag.size();
}

std::string_view TrimBlank(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// `text` without the blanks and comments it starts with ("" when that is all).
std::string_view SkipLeadingComments(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (IsBlank(text[i])) {
      ++i;
      continue;
    }
    const std::size_t next = SkipComment(text, i);
    if (next == i) break;
    i = next;
  }
  return text.substr(i);
}

}  // namespace

std::vector<std::string_view> SplitStatements(std::string_view script) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  std::size_t i = 0;
  auto flush = [&](std::size_t end) {
    std::string_view statement = SkipLeadingComments(script.substr(start, end - start));
    if (!statement.empty()) out.push_back(TrimBlank(statement));
  };
  while (i < script.size()) {
    const char c = script[i];
    if (c == '\'' || c == '"') {
      // '' inside a literal is an escaped quote: the scan simply re-enters.
      const std::size_t end = script.find(c, i + 1);
      i = end == std::string_view::npos ? script.size() : end + 1;
      continue;
    }
    if (std::size_t next = SkipComment(script, i); next != i) {
      i = next;
      continue;
    }
    if (std::size_t next = SkipDollarQuote(script, i); next != i) {
      i = next;
      continue;
    }
    if (c == ';') {
      flush(i);
      start = i + 1;
    }
    ++i;
  }
  flush(script.size());
  return out;
}

std::string FirstKeyword(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    if (IsBlank(sql[i]) || sql[i] == '(') {
      ++i;
      continue;
    }
    const std::size_t next = SkipComment(sql, i);
    if (next == i) break;
    i = next;
  }
  std::string word;
  while (i < sql.size() && IsIdentifierChar(sql[i])) {
    char c = sql[i++];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    word += c;
  }
  return word;
}

bool OnlyReads(std::string_view sql) {
  const std::string word = FirstKeyword(sql);
  return word == "SELECT" || word == "VALUES" || word == "PRAGMA" || word == "SHOW" ||
         word == "EXPLAIN" || word == "TABLE";
}

std::string Shorten(std::string_view sql) {
  constexpr std::size_t kMax = 200;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

}  // namespace scaleout::plugins::odbc

// Human output of `scaleout manage`: aligned tables and key/value blocks.
// Value helpers; not thread-safe (one command, one thread).
#ifndef SCALEOUT_HOST_COMMANDS_MANAGE_FORMAT_H_
#define SCALEOUT_HOST_COMMANDS_MANAGE_FORMAT_H_

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scaleout::host {

// A JSON value as a table cell: text as is, null as "-", booleans yes/no.
std::string Cell(const nlohmann::json& value);
// `object[key]` as a cell ("-" when absent).
std::string Cell(const nlohmann::json& object, std::string_view key);

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Prints the headers and rows, columns padded to their widest cell;
  // "(none)" when there are no rows.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "Key          value" lines, keys padded to the widest.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace scaleout::host

#endif  // SCALEOUT_HOST_COMMANDS_MANAGE_FORMAT_H_

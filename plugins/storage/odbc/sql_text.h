// Small facts about SQL text that ODBC does not give us portably.
//
// Thread-safety: stateless functions.
#ifndef SCALEOUT_PLUGINS_STORAGE_ODBC_SQL_TEXT_H_
#define SCALEOUT_PLUGINS_STORAGE_ODBC_SQL_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

namespace scaleout::plugins::odbc {

// Splits a script at the `;` that end statements, skipping those inside
// quotes ('...', "..."), comments (--, /* */) and PostgreSQL dollar quotes
// ($$...$$, $tag$...$tag$). Leading comments are dropped (the SQLite driver
// takes a statement that starts with one for a second statement), and so
// are blank statements. The views point into `script`. (Not for SQLite trigger bodies, whose `;`
// end nothing.)
std::vector<std::string_view> SplitStatements(std::string_view script);

// The first keyword, upper-cased, after blanks, comments and '('.
std::string FirstKeyword(std::string_view sql);

// True for statements that only read (SELECT, VALUES, PRAGMA, SHOW, EXPLAIN):
// their RowsAffected() is 0, as in storage/sqlite, whatever the driver counts.
bool OnlyReads(std::string_view sql);

// `sql` cut to 200 characters for error messages.
std::string Shorten(std::string_view sql);

}  // namespace scaleout::plugins::odbc

#endif  // SCALEOUT_PLUGINS_STORAGE_ODBC_SQL_TEXT_H_

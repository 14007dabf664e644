// tools/ctl/csv.h — CSV as RFC 4180 writes it (what spreadsheets and
// databases export): fields separated by commas, a field in double quotes
// may hold commas, quotes ("") and line breaks; lines end in CRLF or LF.
// Pure functions, for `ringmta-ctl suppress import / export`.
//
//   CsvReader r(text);
//   std::vector<std::string> row;
//   while (r.next(&row)) { ... r.line() is where the row began ... }
//   if (!r.error().empty()) { "line N: ..." }
//   std::string out; append_csv_row(&out, {"a@b", "note, with comma"});
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta::ctl {

class CsvReader {
 public:
  // Bounds: a row of more than kMaxFields fields or a field of more than
  // kMaxField octets is an error, not a memory blow-up.
  static constexpr size_t kMaxFields = 64;
  static constexpr size_t kMaxField = 64 * 1024;

  explicit CsvReader(std::string_view text) : _text(text) {}
  // next reads the next row (blank lines are skipped); false at the end or
  // on an error (then error() says what).
  bool next(std::vector<std::string>* row);
  size_t line() const { return _row_line; }  // 1-based line where the row began
  const std::string& error() const { return _error; }

 private:
  std::string_view _text;
  size_t _pos = 0;
  size_t _line = 1;
  size_t _row_line = 0;
  std::string _error;
};

// append_csv_row writes fields as one CRLF-ended row, quoting a field that
// holds a comma, a quote, CR or LF, or leading/trailing spaces.
void append_csv_row(std::string* out, const std::vector<std::string_view>& fields);

}  // namespace ringmta::ctl

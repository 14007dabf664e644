// tools/ctl/csv.cc — RFC 4180 reading and writing (csv.h).
#include "tools/ctl/csv.h"

#include "absl/strings/str_cat.h"

namespace ringmta::ctl {

bool CsvReader::next(std::vector<std::string>* row) {
  row->clear();
  // Skip blank lines between rows.
  while (_pos < _text.size() && (_text[_pos] == '\n' || _text[_pos] == '\r')) {
    if (_text[_pos] == '\n') ++_line;
    ++_pos;
  }
  if (_pos >= _text.size() || !_error.empty()) {
    return false;
  }
  _row_line = _line;
  std::string field;
  bool quoted = false;      // inside a quoted field
  bool was_quoted = false;  // this field began with a quote
  for (;;) {
    if (_pos >= _text.size()) {
      if (quoted) {
        _error = absl::StrCat("line ", _row_line, ": a quoted field is not closed (a \" is missing)");
        return false;
      }
      row->push_back(std::move(field));
      return true;
    }
    const char c = _text[_pos++];
    if (quoted) {
      if (c == '"') {
        if (_pos < _text.size() && _text[_pos] == '"') {
          field += '"';
          ++_pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++_line;
        field += c;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      row->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && _pos < _text.size() && _text[_pos] == '\n') ++_pos;
      ++_line;
      row->push_back(std::move(field));
      return true;
    } else if (was_quoted) {
      _error = absl::StrCat("line ", _line, ": text after a quoted field's closing \"");
      return false;
    } else {
      field += c;
    }
    if (field.size() > kMaxField || row->size() > kMaxFields) {
      _error = absl::StrCat("line ", _row_line, ": a row longer than ", kMaxFields, " fields of ", kMaxField,
                            " octets");
      return false;
    }
  }
}

void append_csv_row(std::string* out, const std::vector<std::string_view>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) *out += ',';
    std::string_view f = fields[i];
    const bool quote = f.find_first_of(",\"\r\n") != std::string_view::npos ||
                       (!f.empty() && (f.front() == ' ' || f.back() == ' '));
    if (!quote) {
      out->append(f);
      continue;
    }
    *out += '"';
    for (char c : f) {
      if (c == '"') *out += '"';
      *out += c;
    }
    *out += '"';
  }
  *out += "\r\n";
}

}  // namespace ringmta::ctl

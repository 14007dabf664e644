// proto/template.cc — template.h's parse and render.
#include "proto/template.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ringmta::proto {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

bool blank(char c) { return c == ' ' || c == '\t'; }

// match_variable reads "{{ name }}" at text[pos] (text[pos..pos+1] == "{{");
// on success sets *name and returns the offset past "}}", else npos.
size_t match_variable(std::string_view text, size_t pos, std::string_view* name) {
  size_t i = pos + 2;
  while (i < text.size() && blank(text[i])) {
    ++i;
  }
  const size_t begin = i;
  while (i < text.size() && name_char(text[i])) {
    ++i;
  }
  const size_t end = i;
  while (i < text.size() && blank(text[i])) {
    ++i;
  }
  if (end == begin || end - begin > kMaxVariableName || i + 1 >= text.size() ||
      text[i] != '}' || text[i + 1] != '}') {
    return std::string_view::npos;
  }
  *name = text.substr(begin, end - begin);
  return i + 2;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

}  // namespace

bool valid_variable_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxVariableName) {
    return false;
  }
  for (char c : name) {
    if (!name_char(c)) {
      return false;
    }
  }
  return true;
}

void append_crlf(std::string_view text, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    // Copy runs without CR/LF in one go: most text is long lines.
    size_t j = text.find_first_of("\r\n", i);
    if (j == std::string_view::npos) {
      out->append(text.substr(i));
      return;
    }
    out->append(text.substr(i, j - i));
    out->append("\r\n");
    i = (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ? j + 2 : j + 1;
  }
}

size_t header_section_end(std::string_view text) {
  size_t line = 0;
  while (line < text.size()) {
    size_t j = text.find_first_of("\r\n", line);
    if (j == std::string_view::npos) {
      return std::string_view::npos;
    }
    size_t next = (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ? j + 2 : j + 1;
    if (j == line) {
      return next;
    }
    line = next;
  }
  return std::string_view::npos;
}

Template Template::parse(std::string_view text, TemplateKind kind) {
  Template t;
  t._kind = kind;
  std::string normalized;
  size_t header_end = 0;  // variables before this offset are header-bound
  if (kind == TemplateKind::kRawMessage) {
    normalized.reserve(text.size());
    append_crlf(text, &normalized);
    text = normalized;
    header_end = header_section_end(text);
  } else if (kind == TemplateKind::kHeaderValue) {
    header_end = std::string_view::npos;
  }
  auto add_literal = [&t](std::string_view s) {
    if (s.empty()) {
      return;
    }
    if (!t._segments.empty() && !t._segments.back().variable) {
      t._segments.back().text.append(s);  // "{{" that was not a variable
    } else {
      t._segments.push_back(Segment{.variable = false, .in_header = false, .text = std::string(s)});
    }
    t._literal_size += s.size();
  };
  size_t literal = 0;
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    std::string_view name;
    size_t end = match_variable(text, pos, &name);
    if (end == std::string_view::npos) {
      ++pos;  // "{{{x}}}": the variable may start at the next brace
      continue;
    }
    add_literal(text.substr(literal, pos - literal));
    t._segments.push_back(
        Segment{.variable = true, .in_header = pos < header_end, .text = std::string(name)});
    ++t._variables;
    literal = pos = end;
  }
  add_literal(text.substr(literal));
  return t;
}

absl::Status Template::render(const Substitutions& recipient, const Substitutions& global,
                              std::string* out) const {
  out->reserve(out->size() + _literal_size + 32 * _variables);
  for (const Segment& s : _segments) {
    if (!s.variable) {
      out->append(s.text);
      continue;
    }
    std::string_view value;
    if (auto it = recipient.find(s.text); it != recipient.end()) {
      value = it->second;
    } else if (auto g = global.find(s.text); g != global.end()) {
      value = g->second;
    }
    if (s.in_header && has_line_break(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the value of {{", s.text, "}} contains CR or LF and would land in the header section"));
    }
    if (_kind == TemplateKind::kRawMessage && !s.in_header) {
      append_crlf(value, out);
    } else {
      out->append(value);
    }
  }
  return absl::OkStatus();
}

}  // namespace ringmta::proto

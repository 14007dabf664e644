// proto/mime_read.cc — MIME structure of received messages (RFC 2045,
// RFC 2046). Every loop moves forward by at least one octet per step and
// nothing is scanned twice at one level, so the work is linear in the
// input; what is copied out is bounded by the callers' limits.
#include "proto/mime_read.h"

#include <algorithm>

#include "proto/address.h"
#include "proto/header_scan.h"

namespace ringmta::proto {
namespace {

// Line is one line of a text: its content without the line end (CRLF or a
// bare LF), where the next line starts, and whether a line end was found.
struct Line {
  std::string_view content;
  size_t next = 0;
  bool ended = false;
};

Line line_at(std::string_view text, size_t pos) {
  const size_t nl = text.find('\n', pos);
  Line l;
  l.ended = nl != std::string_view::npos;
  const size_t end = l.ended ? nl : text.size();
  l.next = l.ended ? nl + 1 : text.size();
  l.content = text.substr(pos, end - pos);
  if (!l.content.empty() && l.content.back() == '\r') {
    l.content.remove_suffix(1);
  }
  return l;
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }
bool is_continuation(std::string_view line) { return !line.empty() && is_wsp(line[0]); }

// is_token_char: RFC 2045 5.1 token, printable ASCII but tspecials.
bool is_token_char(char c) {
  if (c <= ' ' || c >= 127) {
    return false;
  }
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// cut_partial_utf8 drops a UTF-8 sequence left incomplete at the end of
// `s` by a cut (a complete one stays).
void cut_partial_utf8(std::string* s) {
  size_t i = s->size();
  size_t continuation = 0;
  while (i > 0 && continuation < 3 && (static_cast<unsigned char>((*s)[i - 1]) & 0xC0) == 0x80) {
    --i;
    ++continuation;
  }
  if (i == 0) {
    return;
  }
  const unsigned char lead = static_cast<unsigned char>((*s)[i - 1]);
  const size_t want = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (lead >= 0xC0 && continuation < want) {
    s->resize(i - 1);
  }
}

// ParamLexer reads a structured field value (Content-Type,
// Content-Transfer-Encoding) past comments and folding.
class ParamLexer {
 public:
  explicit ParamLexer(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }
  void advance() { ++i_; }

  void skip_cfws() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (is_wsp(c) || c == '\r' || c == '\n') {
        ++i_;
      } else if (c == '(') {
        skip_comment();
      } else {
        break;
      }
    }
  }

  std::string_view token() {
    const size_t begin = i_;
    while (i_ < s_.size() && is_token_char(s_[i_])) {
      ++i_;
    }
    return s_.substr(begin, i_ - begin);
  }

  // value reads a quoted-string (returned without its quotes) or an
  // unquoted run; *too_long when it held more than `limit` octets.
  std::string value(size_t limit, bool* too_long) {
    std::string out;
    auto put = [&](char c) {
      if (out.size() < limit) {
        out.push_back(c);
      } else {
        *too_long = true;
      }
    };
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      while (i_ < s_.size() && s_[i_] != '"') {
        char c = s_[i_++];
        if (c == '\\' && i_ < s_.size()) {
          c = s_[i_++];
        }
        if (c != '\r' && c != '\n') {  // folding inside the quotes
          put(c);
        }
      }
      ++i_;  // the closing quote (past the end when it is missing)
      return out;
    }
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ';' || c == '(' || is_wsp(c) || c == '\r' || c == '\n') {
        break;
      }
      put(c);
      ++i_;
    }
    return out;
  }

 private:
  void skip_comment() {
    size_t depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '\\') {
        ++i_;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        return;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// read_media_type moves the lexer past "type/subtype" and returns it.
std::string read_media_type(ParamLexer* lx) {
  lx->skip_cfws();
  std::string_view type = lx->token();
  lx->skip_cfws();
  if (lx->at_end() || lx->peek() != '/') {
    return {};
  }
  lx->advance();
  lx->skip_cfws();
  std::string_view subtype = lx->token();
  // RFC 6838 4.2 bounds each name to 127 characters.
  if (type.empty() || subtype.empty() || type.size() > 127 || subtype.size() > 127) {
    return {};
  }
  std::string out = ascii_lower(type);
  out.push_back('/');
  out += ascii_lower(subtype);
  return out;
}

}  // namespace

MimeEntity split_entity(std::string_view entity) {
  size_t pos = 0;
  while (pos < entity.size()) {
    const Line l = line_at(entity, pos);
    if (l.content.empty()) {
      return {entity.substr(0, pos), entity.substr(l.next)};
    }
    if (!is_continuation(l.content) && header_field_name(l.content).empty()) {
      return {entity.substr(0, pos), entity.substr(pos)};
    }
    pos = l.next;
  }
  return {entity, {}};
}

bool next_header_field(std::string_view* section, HeaderField* field) {
  while (!section->empty()) {
    const Line l = line_at(*section, 0);
    const std::string_view name =
        is_continuation(l.content) ? std::string_view() : header_field_name(l.content);
    if (name.empty()) {
      section->remove_prefix(l.next);  // not a field, or a stray continuation
      continue;
    }
    // header_field_name found "name WSP* :", and the name holds no ':'.
    const size_t value_begin = l.content.find(':') + 1;
    size_t value_end = l.content.size();
    size_t next = l.next;
    while (next < section->size()) {
      const Line c = line_at(*section, next);
      if (!is_continuation(c.content)) {
        break;
      }
      value_end = next + c.content.size();
      next = c.next;
    }
    field->name = name;
    field->value = section->substr(value_begin, value_end - value_begin);
    section->remove_prefix(next);
    return true;
  }
  return false;
}

bool next_field_block(std::string_view* text, std::string_view* block) {
  auto blank = [](std::string_view line) { return std::all_of(line.begin(), line.end(), is_wsp); };
  size_t pos = 0;
  while (pos < text->size()) {
    const Line l = line_at(*text, pos);
    if (!blank(l.content)) {
      break;
    }
    pos = l.next;
  }
  if (pos >= text->size()) {
    text->remove_prefix(text->size());
    return false;
  }
  const size_t begin = pos;
  while (pos < text->size()) {
    const Line l = line_at(*text, pos);
    if (blank(l.content)) {
      break;
    }
    pos = l.next;
  }
  *block = text->substr(begin, pos - begin);
  text->remove_prefix(pos);
  return true;
}

MimeHeaders read_mime_headers(std::string_view section) {
  MimeHeaders h;
  bool have_type = false, have_encoding = false;
  HeaderField f;
  while (next_header_field(&section, &f)) {
    if (!have_type && ascii_iequals(f.name, "Content-Type")) {
      h.content_type = f.value;
      have_type = true;
    } else if (!have_encoding && ascii_iequals(f.name, "Content-Transfer-Encoding")) {
      h.transfer_encoding = f.value;
      have_encoding = true;
    }
  }
  return h;
}

std::string unfold_value(std::string_view raw, size_t limit, bool* truncated) {
  std::string out;
  out.reserve(std::min(raw.size(), limit));
  bool space = false;  // white space seen since the last octet kept
  bool cut = false;
  for (char c : raw) {
    if (is_wsp(c) || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u == 127) {
      continue;
    }
    if (out.size() + (space ? 2 : 1) > limit) {
      cut = true;
      break;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
  }
  if (cut) {
    cut_partial_utf8(&out);
    while (!out.empty() && out.back() == ' ') {
      out.pop_back();
    }
  }
  if (truncated != nullptr) {
    *truncated = cut;
  }
  return out;
}

std::string media_type(std::string_view content_type) {
  ParamLexer lx(content_type);
  return read_media_type(&lx);
}

std::string mime_token(std::string_view value) {
  ParamLexer lx(value);
  lx.skip_cfws();
  const std::string_view token = lx.token();
  return token.size() <= 127 ? ascii_lower(token) : std::string();
}

std::string media_param(std::string_view content_type, std::string_view name, size_t limit) {
  ParamLexer lx(content_type);
  read_media_type(&lx);  // tolerated when missing: the parameters still count
  while (true) {
    lx.skip_cfws();
    if (lx.at_end()) {
      return {};
    }
    if (lx.peek() == ';') {
      lx.advance();
      continue;
    }
    // A missing ';' between parameters (a common fault) is read as if
    // it were there.
    const std::string_view attribute = lx.token();
    if (attribute.empty()) {
      lx.advance();  // a stray octet
      continue;
    }
    lx.skip_cfws();
    if (lx.at_end() || lx.peek() != '=') {
      continue;
    }
    lx.advance();
    lx.skip_cfws();
    bool too_long = false;
    std::string value = lx.value(limit, &too_long);
    if (ascii_iequals(attribute, name)) {
      return too_long ? std::string() : value;
    }
  }
}

MultipartSplit split_multipart(std::string_view body, std::string_view boundary, size_t max_parts,
                               std::vector<std::string_view>* parts) {
  MultipartSplit result;
  if (boundary.empty()) {
    return result;
  }
  bool in_part = false;
  size_t part_begin = 0;
  size_t taken = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    const Line l = line_at(body, pos);
    std::string_view line = l.content;
    if (line.size() >= 2 + boundary.size() && line.substr(0, 2) == "--" &&
        line.substr(2, boundary.size()) == boundary) {
      std::string_view rest = line.substr(2 + boundary.size());
      const bool close = rest.substr(0, 2) == "--";
      if (close) {
        rest.remove_prefix(2);
      }
      // "--boundary-x" is another boundary (a nested one), not this one.
      if (std::all_of(rest.begin(), rest.end(), is_wsp)) {
        if (in_part) {
          // The line end before a delimiter belongs to the delimiter.
          size_t end = pos;
          if (end > part_begin && body[end - 1] == '\n') {
            --end;
            if (end > part_begin && body[end - 1] == '\r') {
              --end;
            }
          }
          parts->push_back(body.substr(part_begin, end - part_begin));
        }
        if (close) {
          result.closed = true;
          return result;
        }
        if (taken == max_parts) {
          result.truncated = true;
          return result;
        }
        ++taken;
        in_part = true;
        part_begin = l.next;
      }
    }
    pos = l.next;
  }
  if (in_part) {
    parts->push_back(body.substr(part_begin));
  }
  return result;
}

}  // namespace ringmta::proto

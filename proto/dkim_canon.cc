// proto/dkim_canon.cc — DKIM canonicalization (dkim_canon.h).
#include "proto/dkim_canon.h"

#include "proto/address.h"
#include "proto/header_scan.h"

namespace ringmta::proto {
namespace {

bool wsp(char c) { return c == ' ' || c == '\t'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// line_end: the offset just past the CRLF of the line starting at `pos`
// (or the end of text when the last line has none).
size_t line_end(std::string_view text, size_t pos) {
  size_t nl = text.find('\n', pos);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

// Relaxed body output goes through a buffer: hashing one word at a time
// would cost a hash update call per word.
class Buffered {
 public:
  explicit Buffered(absl::FunctionRef<void(std::string_view)> sink) : _sink(sink) { _buf.reserve(kSize); }
  ~Buffered() { flush(); }
  void put(std::string_view s) {
    if (_buf.size() + s.size() > kSize) {
      flush();
      if (s.size() > kSize) {
        _sink(s);
        return;
      }
    }
    _buf.append(s);
  }
  void put(char c) {
    if (_buf.size() == kSize) {
      flush();
    }
    _buf.push_back(c);
  }
  void flush() {
    if (!_buf.empty()) {
      _sink(_buf);
      _buf.clear();
    }
  }

 private:
  static constexpr size_t kSize = 16384;
  absl::FunctionRef<void(std::string_view)> _sink;
  std::string _buf;
};

}  // namespace

std::vector<HeaderField> split_header_fields(std::string_view text, size_t* body_start) {
  std::vector<HeaderField> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = line_end(text, pos);
    std::string_view line = text.substr(pos, end - pos);
    if (line == "\r\n" || line == "\n") {
      pos = end;  // the empty line ends the header section
      break;
    }
    if (wsp(line[0]) && !fields.empty()) {
      // A continuation line belongs to the field above it.
      HeaderField& f = fields.back();
      f.raw = text.substr(f.raw.data() - text.data(), end - (f.raw.data() - text.data()));
      pos = end;
      continue;
    }
    std::string_view name = header_field_name(line);
    if (name.empty()) {
      break;  // not a field: the body starts here (RFC 5322 2.1)
    }
    fields.push_back({name, line});
    pos = end;
  }
  if (body_start != nullptr) {
    *body_start = pos;
  }
  return fields;
}

void canon_header(Canon c, const HeaderField& f, std::string* out) {
  if (c == Canon::kSimple) {
    out->append(f.raw);
    return;
  }
  for (char ch : f.name) {
    out->push_back(lower(ch));
  }
  out->push_back(':');
  std::string_view value = f.raw.substr(f.raw.find(':') + 1);
  bool pending_space = false;
  bool started = false;
  for (char ch : value) {
    if (ch == '\r' || ch == '\n') {
      continue;  // unfold (the field's last CRLF goes too; one is added below)
    }
    if (wsp(ch)) {
      pending_space = started;  // no WSP right after the colon
      continue;
    }
    if (pending_space) {
      out->push_back(' ');
      pending_space = false;
    }
    out->push_back(ch);
    started = true;
  }
  out->append("\r\n");  // trailing WSP was never written
}

void canon_body(Canon c, std::string_view body, absl::FunctionRef<void(std::string_view)> sink) {
  if (c == Canon::kSimple) {
    size_t e = body.size();
    while (e >= 2 && body[e - 2] == '\r' && body[e - 1] == '\n') {
      e -= 2;
    }
    if (e > 0) {
      sink(body.substr(0, e));
    }
    sink("\r\n");
    return;
  }
  // relaxed: lines holding only WSP at the end are empty lines at the end.
  size_t last = body.size();
  while (last > 0 && (wsp(body[last - 1]) || body[last - 1] == '\r' || body[last - 1] == '\n')) {
    --last;
  }
  if (last == 0) {
    return;  // an empty body stays empty
  }
  Buffered out(sink);
  size_t pos = 0;
  while (pos < last) {
    size_t end = line_end(body, pos);
    size_t content_end = end;
    if (content_end > pos && body[content_end - 1] == '\n') {
      --content_end;
    }
    if (content_end > pos && body[content_end - 1] == '\r') {
      --content_end;
    }
    // Each WSP run before more text is one SP; WSP at the line's end goes.
    size_t i = pos;
    while (i < content_end) {
      size_t j = i;
      while (j < content_end && wsp(body[j])) {
        ++j;
      }
      if (j == content_end) {
        break;
      }
      if (j > i) {
        out.put(' ');
      }
      size_t k = j;
      while (k < content_end && !wsp(body[k])) {
        ++k;
      }
      out.put(body.substr(j, k - j));
      i = k;
    }
    out.put("\r\n");
    pos = end;
  }
}

std::vector<const HeaderField*> select_signed_headers(const std::vector<HeaderField>& fields,
                                                      const std::vector<std::string>& names) {
  std::vector<const HeaderField*> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    size_t skip = 0;  // instances of this name the names before i took
    for (size_t j = 0; j < i; ++j) {
      skip += ascii_iequals(names[j], names[i]) ? 1 : 0;
    }
    const HeaderField* pick = nullptr;
    for (size_t k = fields.size(); k-- > 0;) {
      if (ascii_iequals(fields[k].name, names[i])) {
        if (skip == 0) {
          pick = &fields[k];
          break;
        }
        --skip;
      }
    }
    out.push_back(pick);
  }
  return out;
}

std::string from_domain(const std::vector<HeaderField>& fields) {
  const HeaderField* from = nullptr;
  for (const HeaderField& f : fields) {
    if (ascii_iequals(f.name, "From")) {
      from = &f;
      break;
    }
  }
  if (from == nullptr) {
    return "";
  }
  std::string_view v = from->raw.substr(from->raw.find(':') + 1);
  std::string bare;  // the first mailbox without comments and quoted strings
  std::string angle;
  bool in_angle = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        i += v[i] == '\\' ? 1 : 0;
      }
    } else if (c == '(') {
      int depth = 1;
      for (++i; i < v.size() && depth > 0; ++i) {
        if (v[i] == '\\') {
          ++i;
        } else {
          depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
        }
      }
      --i;
    } else if (c == '<') {
      in_angle = true;
      angle.clear();
    } else if (c == '>' && in_angle) {
      break;  // the first angle address is the mailbox
    } else if (c == ',' && !in_angle) {
      break;  // the end of the first mailbox
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      (in_angle ? angle : bare).push_back(c);
    }
  }
  const std::string& addr = in_angle ? angle : bare;
  const size_t at = addr.rfind('@');
  if (at == std::string::npos || at + 1 == addr.size()) {
    return "";
  }
  return ascii_lower(std::string_view(addr).substr(at + 1));
}

}  // namespace ringmta::proto

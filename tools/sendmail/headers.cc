// tools/sendmail/headers.cc — header fixing and -t (headers.h).
#include "tools/sendmail/headers.h"

#include <unistd.h>

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "proto/header_scan.h"
#include "proto/mime_build.h"
#include "tools/sendmail/address_list.h"

namespace ringmta::sendmail {
namespace {

// A field name: printable ASCII but the colon (RFC 5322 2.2), then ':'.
size_t field_name_length(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] >= 33 && line[i] <= 126 && line[i] != ':') ++i;
  return i > 0 && i < line.size() && line[i] == ':' ? i : 0;
}

struct Field {
  std::string_view name;
  std::string_view text;  // the whole field, continuation lines and CRLFs included
};

// The value of a field, unfolded (CRLFs taken out; RFC 5322 2.2.3).
std::string unfolded_value(const Field& f) {
  std::string v;
  for (char c : f.text.substr(f.name.size() + 1)) {
    if (c != '\r' && c != '\n') v += c;
  }
  return v;
}

bool needs_quoting(std::string_view name) {
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && std::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) ==
                                                                     std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string from_field(std::string_view address, std::string_view full_name) {
  if (full_name.empty()) return absl::StrCat("From: ", av(address), "\r\n");
  bool ascii = true;
  for (char c : full_name) {
    if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20) ascii = false;
  }
  std::string name;
  if (!ascii) {
    name = proto::encoded_words(full_name);
  } else if (needs_quoting(full_name)) {
    name = "\"";
    for (char c : full_name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += '"';
  } else {
    name = std::string(full_name);
  }
  return absl::StrCat("From: ", name, " <", av(address), ">\r\n");
}

std::string message_id_field(absl::Time now, std::string_view hostname) {
  std::random_device rd;
  return absl::StrCat("Message-ID: <", absl::ToUnixMicros(now), ".", ::getpid(), ".",
                      absl::Hex(static_cast<uint64_t>(rd()) << 32 | rd(), absl::kZeroPad16), "@", av(hostname),
                      ">\r\n");
}

absl::StatusOr<FixedMessage> fix_headers(std::string_view content, const HeaderFix& fix) {
  std::vector<Field> fields;
  size_t pos = 0;
  // An mbox "From sender date" line first: a Unix mailer's envelope, not a
  // header; Postfix's sendmail drops it too.
  if (content.substr(0, 5) == "From ") {
    size_t eol = content.find("\r\n");
    pos = eol == std::string_view::npos ? content.size() : eol + 2;
  }
  while (pos < content.size()) {
    size_t eol = content.find("\r\n", pos);
    std::string_view line = content.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    size_t next = eol == std::string_view::npos ? content.size() : eol + 2;
    if (line.empty()) {
      pos = next;
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      Field& f = fields.back();
      f.text = content.substr(f.text.data() - content.data(), next - (f.text.data() - content.data()));
    } else if (size_t n = field_name_length(line); n > 0) {
      if (fields.size() == kMaxHeaderFields) {
        return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxHeaderFields, " header fields"));
      }
      fields.push_back({line.substr(0, n), content.substr(pos, next - pos)});
    } else {
      break;  // not a field: the body starts here
    }
    if (fields.back().text.size() > kMaxHeaderField) {
      return absl::InvalidArgumentError(absl::StrCat("the header field ", av(fields.back().name).substr(0, 60),
                                                     ": is longer than ", kMaxHeaderField, " octets"));
    }
    pos = next;
  }
  std::string_view body = content.substr(pos);

  FixedMessage out;
  bool has_from = false, has_date = false, has_id = false;
  for (const Field& f : fields) {
    std::string_view n = f.name;
    auto is = [&](std::string_view want) { return absl::EqualsIgnoreCase(av(n), av(want)); };
    if (is("From")) has_from = true;
    if (is("Date")) has_date = true;
    if (is("Message-ID")) has_id = true;
    const bool bcc = is("Bcc");
    if (fix.extract_recipients && (is("To") || is("Cc") || bcc)) {
      for (std::string& a : parse_address_list(unfolded_value(f))) {
        if (out.header_recipients.size() == kMaxHeaderRecipients) {
          return absl::InvalidArgumentError(
              absl::StrCat("more than ", kMaxHeaderRecipients, " recipients in the headers"));
        }
        out.header_recipients.push_back(std::move(a));
      }
    }
    if (bcc) {
      out.removed_bcc = true;  // Bcc: is blind: removed whether or not -t read it
      continue;
    }
    out.content.append(f.text);
  }
  if (!has_from) {
    out.content += from_field(fix.from_address, fix.full_name);
    out.added_from = true;
  }
  if (!has_date) {
    absl::StrAppend(&out.content, "Date: ", proto::format_rfc5322_date(fix.now), "\r\n");
    out.added_date = true;
  }
  if (!has_id) {
    out.content += message_id_field(fix.now, fix.hostname);
    out.added_message_id = true;
  }
  // One empty line ends the header section, whether or not the input had one.
  out.content += "\r\n";
  out.content.append(body);
  return out;
}

}  // namespace ringmta::sendmail

// proto/command.cc — RFC 5321 4.1.1 commands, ESMTP parameters of RFC 1870
// (SIZE), 6152 (BODY), 6531 (SMTPUTF8), 4954 (AUTH=) and 3030 (BDAT).
#include "proto/command.h"

#include "proto/address.h"

namespace ringmta::proto {
namespace {


bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  return s;
}

std::string_view trim_trailing_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

struct VerbName {
  std::string_view name;
  Verb verb;
};

constexpr VerbName kVerbs[] = {
    {"EHLO", Verb::kEhlo}, {"HELO", Verb::kHelo}, {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt}, {"DATA", Verb::kData}, {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset}, {"NOOP", Verb::kNoop}, {"QUIT", Verb::kQuit},
    {"VRFY", Verb::kVrfy}, {"EXPN", Verb::kExpn}, {"HELP", Verb::kHelp},
    {"STARTTLS", Verb::kStartTls}, {"AUTH", Verb::kAuth},
};

// split_path separates "<path> params" after "FROM:"/"TO:". Postfix-style
// leniency: blanks after the colon are skipped.
bool split_path(std::string_view rest, std::string_view* path, std::string_view* params) {
  rest = skip_blanks(rest);
  size_t end = find_path_end(rest);
  if (end == std::string_view::npos) {
    return false;
  }
  *path = rest.substr(0, end);
  std::string_view tail = rest.substr(end);
  if (!tail.empty() && !is_blank(tail.front())) {
    return false;  // "<a@b>X"
  }
  *params = skip_blanks(tail);
  return true;
}

// next_param pops one blank-separated "keyword[=value]".
std::string_view next_param(std::string_view* params) {
  size_t end = 0;
  while (end < params->size() && !is_blank((*params)[end])) {
    ++end;
  }
  std::string_view param = params->substr(0, end);
  *params = skip_blanks(params->substr(end));
  return param;
}

ArgStatus map_path_status(PathStatus s) {
  switch (s) {
    case PathStatus::kOk:
      return ArgStatus::kOk;
    case PathStatus::kNeedsSmtpUtf8:
      return ArgStatus::kNeedsSmtpUtf8;
    case PathStatus::kSyntax:
    case PathStatus::kTooLong:
      break;
  }
  return ArgStatus::kBadAddress;
}

}  // namespace

bool parse_decimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) {
    return false;  // 19 digits always fit in 64 bits
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

Command parse_command(std::string_view line) {
  line = trim_trailing_blanks(line);
  size_t space = 0;
  while (space < line.size() && line[space] != ' ') {
    ++space;
  }
  std::string_view word = line.substr(0, space);
  Command command;
  for (const VerbName& v : kVerbs) {
    if (ascii_iequals(word, v.name)) {
      command.verb = v.verb;
      break;
    }
  }
  if (space < line.size()) {
    command.arg = skip_blanks(line.substr(space + 1));
  }
  return command;
}

ArgStatus parse_mail_args(std::string_view arg, MailArgs* out, bool accept_auth) {
  *out = MailArgs{};
  if (!istarts_with(arg, "FROM:")) {
    return ArgStatus::kSyntax;
  }
  std::string_view path, params;
  if (!split_path(arg.substr(5), &path, &params)) {
    return ArgStatus::kSyntax;
  }
  while (!params.empty()) {
    std::string_view param = next_param(&params);
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    if (ascii_iequals(key, "SIZE")) {
      if (!parse_decimal(value, &out->size)) {
        out->bad_param = param;
        return ArgStatus::kBadParamValue;
      }
    } else if (ascii_iequals(key, "BODY")) {
      if (ascii_iequals(value, "7BIT")) {
        out->body = BodyType::k7Bit;
      } else if (ascii_iequals(value, "8BITMIME")) {
        out->body = BodyType::k8BitMime;
      } else {
        out->bad_param = param;
        return ArgStatus::kBadParamValue;
      }
    } else if (ascii_iequals(key, "SMTPUTF8")) {
      if (eq != std::string_view::npos) {
        out->bad_param = param;
        return ArgStatus::kBadParamValue;
      }
      out->smtputf8 = true;
    } else if (accept_auth && ascii_iequals(key, "AUTH")) {
      // The value is xtext or "<>"; it only has to be there.
      if (value.empty()) {
        out->bad_param = param;
        return ArgStatus::kBadParamValue;
      }
      out->has_auth = true;
    } else {
      out->bad_param = param;
      return ArgStatus::kUnknownParam;
    }
  }
  // Senders past 64 octets are VERP and SRS return paths (a token, then an
  // address): accepted, within the path's own bound (RFC 5321 4.5.3.1).
  PathOptions options{.smtputf8 = out->smtputf8, .allow_null = true, .allow_postmaster = false, .long_local = true};
  return map_path_status(parse_path(path, options, &out->sender));
}

ArgStatus parse_rcpt_args(std::string_view arg, bool smtputf8, RcptArgs* out, bool long_local) {
  *out = RcptArgs{};
  if (!istarts_with(arg, "TO:")) {
    return ArgStatus::kSyntax;
  }
  std::string_view path, params;
  if (!split_path(arg.substr(3), &path, &params)) {
    return ArgStatus::kSyntax;
  }
  if (!params.empty()) {
    // No RCPT parameters are offered yet (DSN's NOTIFY/ORCPT come later).
    out->bad_param = next_param(&params);
    return ArgStatus::kUnknownParam;
  }
  PathOptions options{
      .smtputf8 = smtputf8, .allow_null = false, .allow_postmaster = true, .long_local = long_local};
  return map_path_status(parse_path(path, options, &out->recipient));
}

bool parse_bdat_args(std::string_view arg, BdatArgs* out) {
  *out = BdatArgs{};
  size_t end = 0;
  while (end < arg.size() && !is_blank(arg[end])) {
    ++end;
  }
  if (!parse_decimal(arg.substr(0, end), &out->size)) {
    return false;
  }
  std::string_view rest = skip_blanks(arg.substr(end));
  if (rest.empty()) {
    return true;
  }
  if (ascii_iequals(rest, "LAST")) {
    out->last = true;
    return true;
  }
  return false;
}

}  // namespace ringmta::proto

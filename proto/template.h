// proto/template.h — {{name}} substitution for injected messages: one
// template, many recipients.
//
//   Template t = Template::parse(content, TemplateKind::kRawMessage);
//   for (const InjectRecipient& r : request.recipients) {
//     std::string msg;
//     absl::Status s = t.render(r.substitutions, request.substitutions, &msg);
//     if (!s.ok()) { /* this recipient fails (s.message() says why) */ }
//   }
//
// A plain, safe replacement, nothing more: no code, no loops, no
// conditionals, no escaping language, so a template cannot do anything but
// copy text and values.
//
// Syntax: "{{" optional blanks, a name of [A-Za-z0-9_.-] (1..64 octets),
// optional blanks, "}}". Anything else, "{{" without a closing "}}"
// included, is literal text.
//
// Lookup: the recipient's value, else the request's global value, else
// the empty string. An unknown name is not an error: SparkPost renders it
// empty too, and failing a whole campaign (or one recipient) because a
// recipient lacks an optional field ("{{first_name}}") is the worse
// surprise for a bulk sender; the text is still the sender's own.
//
// Parsed once into literal and variable segments, so rendering 10,000
// recipients never rescans the text (bench/inject_parse_benchmark).
//
// Header injection: a value that lands in the header section must not
// bring CR or LF (it would add "Bcc:" or end the headers early). The
// template knows where each variable sits, so the check lives here:
// render() refuses such a value (InvalidArgument naming the variable) and
// that recipient fails; the value is never silently changed, because a
// sender who sees a fail count learns of the bad data, one whose
// "Subject" quietly lost a line does not. One shape a value can still
// change: a header line that is nothing but a variable ("{{extra}}\r\n")
// becomes an empty line when the value is empty, and ends the header
// section there; write "X-Extra: {{extra}}" instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace ringmta::proto {

// Substitutions maps a variable name to its value.
using Substitutions = absl::flat_hash_map<std::string, std::string>;

inline constexpr size_t kMaxVariableName = 64;

enum class TemplateKind : unsigned char {
  // A whole RFC 5322 message (inject's raw "content"): variables before
  // the first empty line are header-bound. Line endings become CRLF, what
  // the spool stores (data_decoder.h): the literal text once at parse,
  // body values as they are copied in.
  kRawMessage,
  // One header field's value (Subject, From, a custom header): every
  // variable is header-bound. Text is copied as is.
  kHeaderValue,
  // A body (text_body, html_body): no variable is header-bound; text is
  // copied as is (mime_build.h encodes and normalizes bodies).
  kBody,
};

class Template {
 public:
  struct Segment {
    bool variable = false;
    bool in_header = false;  // variable: its value must have no CR or LF
    std::string text;        // literal text, or the variable's name
  };

  // parse splits `text` into segments; it cannot fail.
  static Template parse(std::string_view text, TemplateKind kind);

  // render appends the text with each variable replaced (see above) to
  // *out. On error *out holds a partial rendering; discard it.
  absl::Status render(const Substitutions& recipient, const Substitutions& global,
                      std::string* out) const;

  const std::vector<Segment>& segments() const { return _segments; }
  // has_variables: false when rendering is the same for every recipient.
  bool has_variables() const { return _variables > 0; }

 private:
  TemplateKind _kind = TemplateKind::kBody;
  std::vector<Segment> _segments;
  size_t _variables = 0;
  size_t _literal_size = 0;  // reserve() hint for render
};

// valid_variable_name: 1..kMaxVariableName octets of [A-Za-z0-9_.-].
bool valid_variable_name(std::string_view name);

// append_crlf appends `text` to *out with every bare CR and bare LF made
// CRLF (a CRLF stays one), as BodyDecoder stores a message from SMTP.
void append_crlf(std::string_view text, std::string* out);

// header_section_end returns the offset just past the empty line that ends
// the header section of `text` (CRLF, bare LF or bare CR line ends), or
// npos when there is none (all of `text` is header section). A text that
// starts with an empty line has an empty header section.
size_t header_section_end(std::string_view text);

}  // namespace ringmta::proto

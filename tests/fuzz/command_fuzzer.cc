// tests/fuzz/command_fuzzer.cc — libFuzzer harness for the command parsers
// and the whole ServerSession.
//
// Input: byte 0 picks a fragment size, whether the client may relay,
// whether storing fails, and small or default limits; the rest is what the
// client sends. Every line also goes through the parsers directly. The
// session is run whole and fragmented; the outputs must be identical, and:
//   - every reply line is "ddd" + ' ' or '-' + printable text + CRLF;
//   - stored bodies hold only CRLF line endings and respect the size limit;
//   - the session never grows its buffers without bound (ASan/LSan watch).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/command.h"
#include "proto/server_session.h"

namespace {

using namespace ringmta::proto;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

void parse_lines(std::string_view in) {
  while (!in.empty()) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    Command c = parse_command(line);
    MailArgs m;
    RcptArgs r;
    BdatArgs b;
    if (parse_mail_args(c.arg, &m) == ArgStatus::kOk) {
      check(address_text(m.sender).size() <= kMaxPath);
    }
    if (parse_rcpt_args(c.arg, true, &r) == ArgStatus::kOk) {
      check(!r.recipient.is_null);
      check(valid_utf8(address_text(r.recipient)));
    }
    parse_bdat_args(c.arg, &b);
    if (nl == std::string_view::npos) {
      break;
    }
    in.remove_prefix(nl + 1);
  }
}

void check_replies(std::string_view out) {
  while (!out.empty()) {
    size_t end = out.find("\r\n");
    check(end != std::string_view::npos && end >= 4);
    std::string_view line = out.substr(0, end);
    for (int k = 0; k < 3; ++k) {
      check(line[k] >= '0' && line[k] <= '9');
    }
    check(line[3] == ' ' || line[3] == '-');
    for (char c : line) {
      check(c != '\r' && c != '\n');
    }
    out.remove_prefix(end + 2);
  }
}

void check_body(std::string_view body, uint64_t max) {
  check(body.size() <= max);
  for (size_t k = 0; k < body.size(); ++k) {
    if (body[k] == '\r') {
      check(k + 1 < body.size() && body[k + 1] == '\n');
    } else if (body[k] == '\n') {
      check(k > 0 && body[k - 1] == '\r');
    }
  }
}

std::string run(const SessionConfig& config, const ClientInfo& client, std::string_view in,
                size_t fragment, bool fail_store) {
  ServerSession s(config, client);
  s.start();
  std::string out;
  std::string pending;
  for (size_t pos = 0; pos < in.size() && !s.closing(); pos += fragment) {
    pending.append(in.substr(pos, fragment));
    while (!pending.empty() && !s.closing()) {
      size_t used = s.consume(pending);
      check(used <= pending.size());
      pending.erase(0, used);
      if (s.message_ready()) {
        CompletedMessage m = s.take_message();
        check(!m.envelope.recipients.empty());
        check(m.envelope.recipients.size() <= config.limits.max_recipients);
        check_body(m.body, config.limits.max_message_size);
        if (fail_store) {
          s.on_store_failed();
        } else {
          s.on_stored();
        }
        continue;
      }
      check(used > 0 || s.waiting() || s.closing());
      if (used == 0) {
        break;
      }
    }
    out.append(s.output());
    s.output().clear();
  }
  if (!s.closing()) {
    s.on_timeout();
    out.append(s.output());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 1) {
    return 0;
  }
  const uint8_t flags = bytes[0];
  std::string_view in(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  parse_lines(in);

  static constexpr size_t kFragments[] = {1, 2, 7, 100};
  SessionConfig config;
  config.hostname = "mx.fuzz";
  config.local_domains.insert("example.test");
  int next_id = 0;
  config.new_queue_id = [&next_id] { return "Q" + std::to_string(++next_id); };
  config.clock = [] { return absl::FromUnixSeconds(1795341600); };
  if (flags & 0x40) {
    config.limits.max_message_size = 64;
    config.limits.max_recipients = 3;
    config.limits.max_errors = 5;
    config.limits.max_command_line = 40;
    config.limits.max_text_line = 20;
  }
  ClientInfo client{.addr = "192.0.2.1", .may_relay = (flags & 0x10) != 0};
  const bool fail_store = (flags & 0x20) != 0;

  std::string whole = run(config, client, in, in.size() + 1, fail_store);
  next_id = 0;
  std::string part = run(config, client, in, kFragments[flags & 3], fail_store);
  check(whole == part);
  check_replies(whole);
  return 0;
}

// tests/fuzz/command_fuzzer.cc — libFuzzer harness for the command parsers
// and the whole ServerSession.
//
// Input: byte 0 picks a fragment size (0x03), whether the client may relay
// (0x10), whether storing fails (0x20), small or default limits (0x40),
// STARTTLS and AUTH offered (0x04), AUTH required (0x08) and implicit TLS
// (0x80; without 0x04 it offers AUTH in plaintext instead); the rest is
// what the client sends. A line "~TLS~" in it is not sent: there the TLS
// handshake happens if the session asked for one (what it had not consumed
// is dropped). AUTH succeeds for user "u" with password "p". Every line
// also goes through the parsers and the SASL decoders directly. The
// session is run whole and fragmented; the outputs must be identical, and:
//   - every reply line is "ddd" + ' ' or '-' + printable text + CRLF;
//   - stored bodies hold only CRLF line endings and respect the size limit;
//   - nothing is executed between STARTTLS and the handshake: the session
//     reports every such octet consumed and answers nothing;
//   - AUTH requests carry a valid user, and an authenticated session's
//     messages carry it in the envelope;
//   - the session never grows its buffers without bound (ASan/LSan watch).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/command.h"
#include "proto/sasl.h"
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
    parse_mail_args(c.arg, &m, true);
    SaslCredentials credentials;
    if (decode_plain(line, &credentials) == SaslStatus::kOk) {
      check(valid_sasl_user(credentials.user));
      check(!credentials.password.empty());
    }
    std::string decoded;
    if (base64_decode(line, &decoded)) {
      std::string again;
      base64_encode(decoded, &again);
      std::string twice;
      check(base64_decode(again, &twice) && twice == decoded);
    }
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

constexpr std::string_view kTlsMarker = "~TLS~\n";

// feed offers `pending` to the session until it stops, answering stores
// and AUTH requests at once.
void feed(ServerSession& s, const SessionConfig& config, std::string* pending, bool fail_store) {
  while (!pending->empty() && !s.closing()) {
    const bool dropping = s.wants_tls();
    const size_t out_before = s.output().size();
    size_t used = s.consume(*pending);
    check(used <= pending->size());
    if (dropping) {
      // Plaintext after STARTTLS is dropped whole and never answered.
      check(used == pending->size() && s.output().size() == out_before);
    }
    pending->erase(0, used);
    if (s.message_ready()) {
      CompletedMessage m = s.take_message();
      check(!m.envelope.recipients.empty());
      check(m.envelope.recipients.size() <= config.limits.max_recipients);
      check(m.envelope.auth_user == s.auth_user());
      check_body(m.body, config.limits.max_message_size);
      if (fail_store) {
        s.on_store_failed();
      } else {
        s.on_stored();
      }
      continue;
    }
    if (s.auth_pending()) {
      check(config.auth_available && !s.authenticated());
      AuthRequest r = s.take_auth_request();
      check(valid_sasl_user(r.user) && !r.password.empty());
      check(!s.auth_pending() && s.waiting());
      s.on_auth_result(r.user == "u" && r.password == "p");
      continue;
    }
    check(used > 0 || s.waiting() || s.closing());
    if (used == 0) {
      break;
    }
  }
}

std::string run(const SessionConfig& config, const ClientInfo& client, std::string_view in,
                size_t fragment, bool fail_store) {
  ServerSession s(config, client);
  s.start();
  std::string out;
  std::string pending;
  bool first = true;
  while (!s.closing()) {
    // One segment: up to the next marker line, or the rest.
    size_t marker = in.find(kTlsMarker);
    std::string_view segment = in.substr(0, marker);
    if (!first && s.wants_tls()) {
      check(pending.empty());  // the session dropped the pipelined plaintext
      s.on_tls_established("TLSv1.3", "TLS_AES_128_GCM_SHA256");
      check(!s.wants_tls() && s.tls_active() && !s.authenticated());
    }
    first = false;
    for (size_t pos = 0; pos < segment.size() && !s.closing(); pos += fragment) {
      pending.append(segment.substr(pos, fragment));
      feed(s, config, &pending, fail_store);
      out.append(s.output());
      s.output().clear();
    }
    if (marker == std::string_view::npos) {
      break;
    }
    in.remove_prefix(marker + kTlsMarker.size());
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
  if (flags & 0x04) {
    config.starttls_available = true;
    config.auth_available = true;
    client.tls = (flags & 0x80) != 0;
  } else if (flags & 0x80) {
    config.auth_available = true;
    config.auth_requires_tls = false;
  }
  config.auth_required = (flags & 0x08) != 0;
  const bool fail_store = (flags & 0x20) != 0;

  std::string whole = run(config, client, in, in.size() + 1, fail_store);
  next_id = 0;
  std::string part = run(config, client, in, kFragments[flags & 3], fail_store);
  check(whole == part);
  check_replies(whole);
  return 0;
}

// ringmta-spool — look into a ringmta spool, like Postfix's mailq and postcat.
//
//   ringmta-spool /var/spool/ringmta                    list messages not yet final
//   ringmta-spool /var/spool/ringmta 0009A1F3C2D40100   show one message whole
//
// Read-only: it takes no lock and changes nothing, so it is safe to run while
// the engine runs (a record being written at that moment may show up as a
// torn tail on stderr; the engine's own recovery is what repairs).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "spool/record.h"
#include "spool/recovery.h"

namespace {

using ringmta::spool::RecoveredMessage;

constexpr char kUsage[] =
    "usage: ringmta-spool [--help] SPOOL_DIR [QUEUE_ID]\n"
    "\n"
    "Lists the messages in a ringmta spool that still have recipients to\n"
    "deliver to, or with QUEUE_ID prints one message: its envelope, a blank\n"
    "line, then its content. Read-only; safe while ringmta runs.\n"
    "\n"
    "Exit status: 0 ok, 1 no such message, 2 usage or spool error.\n";

std::string rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string bracketed(const std::string& addr) { return absl::StrCat("<", addr, ">"); }

size_t live_rcpts(const RecoveredMessage& m) {
  size_t n = 0;
  for (const auto& s : m.rcpt_state) {
    n += ringmta::spool::is_final(s.status) ? 0 : 1;
  }
  return n;
}

int fail(int code, const std::string& msg) {
  std::fprintf(stderr, "ringmta-spool: %s\n", msg.c_str());
  return code;
}

void list(const std::vector<RecoveredMessage>& msgs) {
  std::printf("%-16s  %-24s  %10s  %s  %s\n", "QUEUE_ID", "ARRIVAL", "SIZE", "SENDER", "RCPTS");
  for (const RecoveredMessage& m : msgs) {
    std::printf("%-16s  %-24s  %10llu  %s  %zu\n", m.queue_id.c_str(), rfc3339(m.arrival).c_str(),
                static_cast<unsigned long long>(m.content_size),
                bracketed(m.envelope.sender).c_str(), live_rcpts(m));
  }
  std::printf("%zu message%s\n", msgs.size(), msgs.size() == 1 ? "" : "s");
}

std::string_view body_name(ringmta::proto::BodyType b) {
  switch (b) {
    case ringmta::proto::BodyType::k7Bit:
      return "7BIT";
    case ringmta::proto::BodyType::k8BitMime:
      return "8BITMIME";
    case ringmta::proto::BodyType::kUnspecified:
      break;
  }
  return "unspecified";
}

int show(const RecoveredMessage& m) {
  absl::StatusOr<std::string> content = ringmta::spool::read_content(m);
  if (!content.ok()) {
    return fail(2, std::string(content.status().message()));
  }
  const auto& e = m.envelope;
  std::string out;
  absl::StrAppend(&out, "queue_id: ", m.queue_id, "\n");
  absl::StrAppend(&out, "arrival: ", rfc3339(m.arrival), "\n");
  absl::StrAppend(&out, "sender: ", bracketed(e.sender), "\n");
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    const ringmta::spool::RecipientState& s = m.rcpt_state[i];
    std::string_view status = ringmta::spool::rcpt_status_name(s.status);
    absl::StrAppend(&out, "recipient: ", bracketed(e.recipients[i]), " ",
                    std::string(status));
    if (s.status == ringmta::spool::RcptStatus::kDeferred) {
      absl::StrAppend(&out, " attempts=", s.attempts, " next_retry=", rfc3339(s.next_retry));
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "size: ", m.content_size, "\n");
  absl::StrAppend(&out, "declared_size: ", e.declared_size, "\n");
  absl::StrAppend(&out, "body: ", std::string(body_name(e.body)), "\n");
  absl::StrAppend(&out, "smtputf8: ", e.smtputf8 ? "yes" : "no", "\n");
  absl::StrAppend(&out, "helo: ", e.helo, "\n");
  absl::StrAppend(&out, "client: ", e.client_addr, "\n");
  if (!e.auth_user.empty()) {
    absl::StrAppend(&out, "auth_user: ", e.auth_user, "\n");
  }
  absl::StrAppend(&out, "segment: ", m.segment_path, " offset ", m.content_offset, "\n");
  absl::StrAppend(&out, "\n");
  out += *content;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a.size() > 1 && a[0] == '-') {
      return fail(2, absl::StrCat("unknown option ", argv[i], "\n", kUsage));
    }
    args.emplace_back(a);
  }
  if (args.empty() || args.size() > 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& dir = args[0];
  struct stat st;
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) {
      return fail(2, absl::StrCat("no such spool directory: ", dir));
    }
    return fail(2, absl::StrCat("stat ", dir, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(2, absl::StrCat("not a spool directory: ", dir));
  }
  absl::StatusOr<ringmta::spool::RecoveryReport> report =
      ringmta::spool::recover(dir, ringmta::spool::RecoverMode::kReadOnly);
  if (!report.ok()) {
    return fail(2, std::string(report.status().message()));
  }
  for (const auto& t : report->torn_tails) {
    std::fprintf(stderr, "ringmta-spool: note: %s: %s at offset %llu (%llu bytes after it)\n",
                 t.segment_path.c_str(), t.reason.c_str(),
                 static_cast<unsigned long long>(t.offset),
                 static_cast<unsigned long long>(t.bytes));
  }
  if (args.size() == 1) {
    list(report->messages);
    return 0;
  }
  for (const RecoveredMessage& m : report->messages) {
    if (m.queue_id == args[1]) {
      return show(m);
    }
  }
  return fail(1, absl::StrCat("no message ", args[1], " in spool ", dir,
                              " (unknown id, or every recipient is final)"));
}

// spool/maildrop.cc — the maildrop file format and its atomic writer
// (maildrop.h).
#include "spool/maildrop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "spool/errors.h"

namespace ringmta::spool {
namespace {

constexpr std::string_view kMagic = "ringmta-maildrop 1";

// Debian's abseil has its own string_view (engine/runtime/absl_compat.h).
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status check_address(std::string_view what, std::string_view a, bool may_be_empty) {
  if (a.empty() && !may_be_empty) return absl::InvalidArgumentError(absl::StrCat(av(what), " is empty"));
  if (a.size() > kMaxMaildropAddress) {
    return absl::InvalidArgumentError(absl::StrCat(av(what), " is longer than ", kMaxMaildropAddress, " octets"));
  }
  for (unsigned char c : a) {
    if (c <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(av(what), " \"", av(a), "\" has a space or control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status check_envelope(const MaildropEnvelope& e) {
  if (auto st = check_address("sender", e.sender, true); !st.ok()) return st;
  if (e.recipients.empty()) return absl::InvalidArgumentError("no recipient");
  if (e.recipients.size() > kMaxMaildropRecipients) {
    return absl::InvalidArgumentError(absl::StrCat("more than ", kMaxMaildropRecipients, " recipients"));
  }
  for (const std::string& r : e.recipients) {
    if (auto st = check_address("recipient", r, false); !st.ok()) return st;
  }
  if (e.origin.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("origin has a line break");
  }
  if (e.arrival_us < 0) return absl::InvalidArgumentError("arrival is negative");
  return absl::OkStatus();
}

absl::Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open", dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc < 0 ? errno_status(err, "fsync", dir) : absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> maildrop_file(const MaildropEnvelope& e, std::string_view content) {
  if (auto st = check_envelope(e); !st.ok()) return st;
  std::string out = absl::StrCat(av(kMagic), "\nsender");
  if (!e.sender.empty()) absl::StrAppend(&out, " ", e.sender);
  out += '\n';
  for (const std::string& r : e.recipients) absl::StrAppend(&out, "rcpt ", r, "\n");
  if (e.arrival_us != 0) absl::StrAppend(&out, "arrival ", e.arrival_us, "\n");
  if (!e.origin.empty()) absl::StrAppend(&out, "origin ", e.origin, "\n");
  if (out.size() + 1 > kMaxMaildropHeader) {
    return absl::InvalidArgumentError(absl::StrCat("envelope is larger than ", kMaxMaildropHeader, " octets"));
  }
  out += '\n';
  out.append(content);
  return out;
}

absl::StatusOr<MaildropMessage> parse_maildrop(std::string_view file) {
  MaildropMessage m;
  size_t pos = 0;
  bool saw_sender = false;
  for (int line_no = 1;; ++line_no) {
    size_t nl = file.find('\n', pos);
    if (nl == std::string_view::npos || nl >= kMaxMaildropHeader) {
      return absl::InvalidArgumentError("the header does not end (no empty line)");
    }
    std::string_view line = file.substr(pos, nl - pos);
    pos = nl + 1;
    auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", av(why)));
    };
    if (line_no == 1) {
      if (line != kMagic) return bad(absl::StrCat("not \"", av(kMagic), "\""));
      continue;
    }
    if (line.empty()) break;
    size_t sp = line.find(' ');
    std::string_view key = line.substr(0, sp);
    std::string_view value = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    if (key == "sender") {
      if (saw_sender) return bad("a second sender");
      saw_sender = true;
      m.envelope.sender = std::string(value);
    } else if (key == "rcpt") {
      if (m.envelope.recipients.size() == kMaxMaildropRecipients) return bad("too many recipients");
      m.envelope.recipients.emplace_back(value);
    } else if (key == "arrival") {
      if (!absl::SimpleAtoi(av(value), &m.envelope.arrival_us) || m.envelope.arrival_us < 0) {
        return bad("arrival is not a number of microseconds");
      }
    } else if (key == "origin") {
      m.envelope.origin = std::string(value);
    } else {
      return bad(absl::StrCat("unknown key \"", av(key.substr(0, 40)), "\""));
    }
  }
  if (!saw_sender) return absl::InvalidArgumentError("no sender line");
  if (auto st = check_envelope(m.envelope); !st.ok()) return st;
  m.content = file.substr(pos);
  return m;
}

bool is_maildrop_name(std::string_view name) {
  return !name.empty() && name.front() != '.' && name.find('/') == std::string_view::npos;
}

absl::StatusOr<std::string> write_maildrop(const std::string& dir, const MaildropEnvelope& envelope,
                                           std::string_view content) {
  absl::StatusOr<std::string> bytes = maildrop_file(envelope, content);
  if (!bytes.ok()) return bytes.status();
  std::random_device rd;
  std::string name = absl::StrCat(absl::ToUnixMicros(absl::Now()), ".", ::getpid(), ".",
                                  absl::Hex(static_cast<uint64_t>(rd()) << 32 | rd(), absl::kZeroPad16));
  std::string tmp = absl::StrCat(dir, "/.", name);
  std::string final_path = absl::StrCat(dir, "/", name);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("open", tmp);
  ::fchmod(fd, 0644);  // whatever the caller's umask: the pickup must read it
  absl::Status st = write_all(fd, *bytes, tmp);
  if (st.ok() && ::fsync(fd) < 0) st = errno_status("fsync", tmp);
  if (::close(fd) < 0 && st.ok()) st = errno_status("close", tmp);
  if (st.ok() && ::rename(tmp.c_str(), final_path.c_str()) < 0) st = errno_status("rename", final_path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (st = fsync_dir(dir); !st.ok()) return st;
  return name;
}

}  // namespace ringmta::spool

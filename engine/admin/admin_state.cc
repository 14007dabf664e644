// engine/admin/admin_state.cc — the durable list of suspensions and holds
// (admin_state.h). The file: one block per line,
// DOMAIN <tab> hold|suspend <tab> UNTIL <tab> SINCE <tab> REASON.
#include "engine/admin/admin_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ringmta {
namespace {

std::string clean(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

absl::Status write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminState>> AdminState::open(const std::string& spool_dir) {
  std::unique_ptr<AdminState> s(new AdminState(spool_dir + "/admin-blocks.tsv"));
  std::ifstream in(s->_path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    AdminBlock b;
    if (f.size() != 5 || f[0].empty() || (f[1] != "hold" && f[1] != "suspend") ||
        !absl::SimpleAtoi(f[2], &b.until_s) || !absl::SimpleAtoi(f[3], &b.since_s)) {
      return absl::DataLossError(absl::StrCat(s->_path, " line ", n,
                                              ": not DOMAIN\\thold|suspend\\tUNTIL\\tSINCE\\tREASON; fix or remove "
                                              "the line (it lists the operator's suspensions and holds)"));
    }
    b.domain = f[0];
    b.hold = f[1] == "hold";
    b.reason = f[4];
    s->_blocks.push_back(std::move(b));
  }
  return s;
}

std::vector<AdminBlock> AdminState::blocks(int64_t now_s) const {
  std::lock_guard<std::mutex> lock(_mu);
  std::vector<AdminBlock> out;
  for (const AdminBlock& b : _blocks) {
    if (b.hold || b.until_s > now_s) out.push_back(b);
  }
  return out;
}

absl::StatusOr<AdminState::Changed> AdminState::change(const std::function<void(std::vector<AdminBlock>&)>& f,
                                                      int64_t now_s) {
  std::lock_guard<std::mutex> lock(_mu);
  std::vector<AdminBlock> next = _blocks;
  f(next);
  std::erase_if(next, [&](const AdminBlock& b) { return !b.hold && b.until_s <= now_s; });
  if (absl::Status s = save(next); !s.ok()) {
    return s;
  }
  _blocks = next;
  return Changed{std::move(next), ++_version};
}

absl::Status AdminState::save(const std::vector<AdminBlock>& list) const {
  std::string data;
  for (const AdminBlock& b : list) {
    absl::StrAppend(&data, clean(b.domain), "\t", b.hold ? "hold" : "suspend", "\t", b.until_s, "\t", b.since_s,
                    "\t", clean(b.reason), "\n");
  }
  const std::string tmp = _path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat(tmp, ": ", strerror(errno)));
  }
  absl::Status s = write_all(fd, data);
  if (s.ok() && ::fsync(fd) != 0) {
    s = absl::InternalError(absl::StrCat("fsync ", tmp, ": ", strerror(errno)));
  }
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), _path.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat("rename to ", _path, ": ", strerror(errno)));
  }
  if (s.ok()) {
    const std::string dir = _path.substr(0, _path.rfind('/'));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return s;
}

}  // namespace ringmta

// engine/inbound/maildrop_reader.cc — the pickup's thread (maildrop_reader.h).
#include "engine/inbound/maildrop_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "spool/maildrop.h"

namespace ringmta {
namespace {

constexpr auto kScanEvery = std::chrono::seconds(1);

}  // namespace

MaildropReader::MaildropReader(std::string dir, uint64_t max_file) : _dir(std::move(dir)), _max_file(max_file) {}

MaildropReader::~MaildropReader() { stop(); }

absl::Status MaildropReader::start() {
  _dir_fd = open(_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (_dir_fd < 0) {
    return absl::InternalError(absl::StrCat("maildrop ", _dir, ": ", strerror(errno),
                                            " (set submit.maildrop to a directory ringmta may read, or \"\" for no pickup)"));
  }
  _thread = std::thread([this] { run(); });
  return absl::OkStatus();
}

void MaildropReader::stop() {
  if (!_thread.joinable()) {
    return;
  }
  {
    std::lock_guard<std::mutex> l(_mu);
    _stopping = true;
  }
  _wake.notify_one();
  _thread.join();
  // What shard 0 finished last is settled too, so a stored file is not
  // picked up again at the next start.
  settle(_done);
  close(_dir_fd);
  _dir_fd = -1;
}

std::vector<MaildropReader::File> MaildropReader::take() {
  std::lock_guard<std::mutex> l(_mu);
  std::vector<File> out;
  out.swap(_out);
  _ready.store(false, std::memory_order_release);
  return out;
}

void MaildropReader::finish(std::string name, Outcome outcome, std::string why) {
  {
    std::lock_guard<std::mutex> l(_mu);
    _done.push_back({std::move(name), outcome, std::move(why)});
  }
  _wake.notify_one();
}

// run: settle what shard 0 finished, scan once a second, read what the
// bounds allow. It sleeps until the next scan or a finish, whichever is
// first, so a backlog moves as fast as the shard stores it.
void MaildropReader::run() {
  auto next_scan = std::chrono::steady_clock::now();
  std::vector<Finished> done;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(_mu);
      _wake.wait_until(l, next_scan, [this] { return _stopping || !_done.empty(); });
      if (_stopping) {
        return;
      }
      done.swap(_done);
    }
    settle(done);
    done.clear();
    if (std::chrono::steady_clock::now() >= next_scan) {
      scan();
      next_scan = std::chrono::steady_clock::now() + kScanEvery;
    }
    read_backlog();
    _busy.store(!_taken.empty() || !_backlog.empty(), std::memory_order_relaxed);
  }
}

// settle deletes the stored files, with one directory fsync for all of
// them (a deletion that is not durable only means a duplicate after a
// crash, never a loss, but without it a power cut would resurrect a whole
// batch), and sets the bad ones aside.
void MaildropReader::settle(std::vector<Finished>& done) {
  bool unlinked = false;
  for (Finished& f : done) {
    if (auto it = _taken.find(f.name); it != _taken.end()) {
      _in_flight_bytes -= it->second;
      _taken.erase(it);
    }
    switch (f.outcome) {
      case Outcome::kStored:
        if (unlinkat(_dir_fd, f.name.c_str(), 0) != 0 && errno != ENOENT) {
          log_error("pickup: %s/%s stored but not deleted (%s): it will be sent again", _dir, f.name,
                    strerror(errno));
        }
        unlinked = true;
        _picked_up.fetch_add(1, std::memory_order_relaxed);
        break;
      case Outcome::kBad:
        set_aside(f.name, f.why);
        break;
      case Outcome::kRetry:
        break;  // still there: the next scan reads it again
    }
  }
  if (unlinked && fsync(_dir_fd) != 0) {
    log_error("pickup: fsync %s: %s", _dir, strerror(errno));
  }
}

// scan lists the finished files not yet read, oldest last (names begin
// with their writer's clock).
void MaildropReader::scan() {
  int fd = dup(_dir_fd);
  DIR* d = fd < 0 ? nullptr : fdopendir(fd);
  if (d == nullptr) {
    log_error("pickup: cannot list %s: %s", _dir, strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  rewinddir(d);  // the dup shares its offset with _dir_fd
  _backlog.clear();
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (spool::is_maildrop_name(name) && !_taken.contains(name)) {
      _backlog.push_back(std::move(name));
    }
  }
  closedir(d);
  std::sort(_backlog.begin(), _backlog.end(), std::greater<>());
}

void MaildropReader::read_backlog() {
  std::vector<File> read;
  while (!_backlog.empty() && _taken.size() < kMaxFiles && _in_flight_bytes < kMaxBytes) {
    std::string name = std::move(_backlog.back());
    _backlog.pop_back();
    read_one(name, read);
  }
  if (read.empty()) {
    return;
  }
  std::lock_guard<std::mutex> l(_mu);
  for (File& f : read) {
    _out.push_back(std::move(f));
  }
  _ready.store(true, std::memory_order_release);
}

// read_one reads a file whole, or sets it aside when it is not a plain
// file of its own (a symlink, a FIFO, a hard link to someone else's file)
// or too large to be a message. O_NONBLOCK: a FIFO must not block the open.
void MaildropReader::read_one(const std::string& name, std::vector<File>& out) {
  int fd = openat(_dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      set_aside(name, "a symbolic link");
    } else if (errno != ENOENT) {
      log_warn("pickup: cannot open %s/%s: %s (tried again in a second)", _dir, name, strerror(errno));
    }
    return;
  }
  struct stat st {};
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = absl::StrCat("fstat: ", strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (st.st_nlink != 1) {
    why = absl::StrCat(st.st_nlink, " hard links (a maildrop file has one)");
  } else if (static_cast<uint64_t>(st.st_size) > _max_file) {
    why = absl::StrCat(st.st_size, " octets, over the limit of ", _max_file,
                       " (limits.max_message_size plus the envelope)");
  }
  if (!why.empty()) {
    close(fd);
    set_aside(name, why);
    return;
  }
  File f{name, std::string(static_cast<size_t>(st.st_size), '\0')};
  size_t got = 0;
  while (got < f.bytes.size()) {
    ssize_t n = read(fd, f.bytes.data() + got, f.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  if (got != f.bytes.size()) {
    log_warn("pickup: short read of %s/%s (%zu of %zu octets; tried again in a second)", _dir, name, got,
             f.bytes.size());
    return;
  }
  _taken[name] = f.bytes.size();
  _in_flight_bytes += f.bytes.size();
  out.push_back(std::move(f));
}

void MaildropReader::set_aside(const std::string& name, const std::string& why) {
  const std::string aside = ".bad." + name;
  if (renameat(_dir_fd, name.c_str(), _dir_fd, aside.c_str()) != 0) {
    log_error("pickup: %s/%s is not a message (%s) and could not be set aside: %s", _dir, name, why,
              strerror(errno));
    return;
  }
  _set_aside.fetch_add(1, std::memory_order_relaxed);
  log_warn("pickup: %s/%s is not a message: %s; renamed %s", _dir, name, why, aside);
}

}  // namespace ringmta

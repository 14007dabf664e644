// engine/observe/webhook_offset.cc — each webhook's offset file: read once
// at start, replaced through the ring after each acknowledged batch
// (webhook_shipper.h).
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/observe/webhook_shipper.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "engine/runtime/user_data.h"

namespace ringmta {
namespace {

// Steps of an offset file's update (the gen of Op::kHookOffset).
constexpr uint32_t kStepOpen = 1;
constexpr uint32_t kStepWrite = 2;
constexpr uint32_t kStepRename = 3;

}  // namespace

// read_stored_offset: "OFFSET URL\n". A missing file means the start of the
// log; an offset past its end (a log truncated or replaced) too.
void WebhookShipper::read_stored_offset(Hook& h) {
  uint64_t offset = 0;
  const int fd = open(h.offset_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[256] = {};
    const ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    std::string_view s(text, n > 0 ? static_cast<size_t>(n) : 0);
    s = s.substr(0, s.find_first_of(" \n"));
    if (!absl::SimpleAtoi(av(s), &offset)) {
      log_warn("webhook %s: %s does not hold an offset: shipping the event log from its start", h.cfg->url,
               h.offset_path);
      offset = 0;
    }
  } else if (errno != ENOENT) {
    log_warn("webhook %s: %s: %s: shipping the event log from its start", h.cfg->url, h.offset_path,
             strerror(errno));
  }
  struct stat st {};
  if (offset > 0 && fstat(_fd, &st) == 0 && offset > static_cast<uint64_t>(st.st_size)) {
    log_warn("webhook %s: offset %llu is past the end of the event log (%lld bytes): shipping it from its start",
             h.cfg->url, static_cast<unsigned long long>(offset), static_cast<long long>(st.st_size));
    offset = 0;
  }
  h.read_offset = h.scanned = h.acked = h.saved = offset;
}

// maybe_save starts replacing the offset file: openat of the temporary
// file, then its write linked to the rename over the old one.
void WebhookShipper::maybe_save(Hook& h, int64_t now_ms) {
  if (h.save_in_flight || h.acked == h.saved) {
    return;
  }
  if (_ctx.stopping ? h.save_failed : now_ms < h.last_save_ms + kIdleSaveMs) {
    return;  // a stop tries once more, not again and again
  }
  h.saving = h.acked;
  h.save_text = absl::StrCat(h.saving, " ", h.cfg->url, "\n");
  h.save_in_flight = true;
  h.last_save_ms = now_ms;
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_openat(sqe, AT_FDCWD, h.offset_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  io_uring_sqe_set_data64(sqe, encode(Op::kHookOffset, h.index, kStepOpen));
}

void WebhookShipper::on_offset(Hook& h, uint32_t step, int res) {
  if (step == kStepOpen) {
    if (res < 0) {
      log_warn("webhook %s: open %s: %s", h.cfg->url, h.offset_tmp, strerror(-res));
      h.save_in_flight = false;
      h.save_failed = true;
      return;
    }
    h.save_fd = res;
    // Linked: the rename happens only if the whole write did (a short
    // write fails the link), so the offset file is always a whole one.
    auto [sqe, rename_sqe] = _ctx.ring.sqe_pair();
    io_uring_prep_write(sqe, h.save_fd, h.save_text.data(), static_cast<unsigned>(h.save_text.size()), 0);
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe_set_data64(sqe, encode(Op::kHookOffset, h.index, kStepWrite));
    io_uring_prep_renameat(rename_sqe, AT_FDCWD, h.offset_tmp.c_str(), AT_FDCWD, h.offset_path.c_str(), 0);
    io_uring_sqe_set_data64(rename_sqe, encode(Op::kHookOffset, h.index, kStepRename));
    return;
  }
  if (step == kStepWrite) {
    if (res != static_cast<int>(h.save_text.size())) {
      log_warn("webhook %s: write %s: %s", h.cfg->url, h.offset_tmp, res < 0 ? strerror(-res) : "short write");
    }
    return;
  }
  // The rename's completion comes last (also when the write failed and it
  // was cancelled). Closing a regular file's descriptor does not block.
  close(h.save_fd);
  h.save_fd = -1;
  h.save_in_flight = false;
  h.save_failed = res != 0;
  if (res == 0) {
    h.saved = h.saving;
  } else if (res != -ECANCELED) {
    log_warn("webhook %s: rename %s: %s", h.cfg->url, h.offset_path, strerror(-res));
  }
}

}  // namespace ringmta

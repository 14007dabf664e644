// engine/store/segments.cc — a shard's segments: counting live messages
// against them, their read fds, and deleting them on the ring (the rules
// are in segments.h).
#include "engine/store/segments.h"

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/log.h"
#include "spool/layout.h"

namespace ringmta {

Segments::~Segments() {
  for (OwnSegment& seg : _segs) {
    if (seg.fd >= 0) {
      close(seg.fd);
    }
  }
  if (_dir_fd >= 0) {
    close(_dir_fd);
  }
}

absl::Status Segments::open() {
  const std::string dir = spool::shard_dir(_ctx.config.spool_dir, _ctx.id);
  _dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (_dir_fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", dir));
  }
  return absl::OkStatus();
}

void Segments::note(const spool::SegmentWriter& writer) {
  const int fd = writer.segment_fd();
  const uint64_t number = writer.segment_number();
  if (fd < 0 || (!_segs.empty() && _segs.back().number == number)) {
    return;
  }
  // A read fd of our own: the writer closes its fd when it moves to the
  // next segment, and records are read back from sealed ones. dup touches
  // only the fd table, never the disk.
  int rfd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (rfd < 0) {
    log_error("shard %u: dup of %s: %s (its messages cannot be read back)", _ctx.id, writer.segment_path(),
              strerror(errno));
  }
  _segs.push_back(OwnSegment{number, rfd});
  _ledger.opened(number);
}

SpoolRef Segments::ref_of(const spool::Placement& p) const {
  for (size_t i = _segs.size(); i-- > 0;) {
    if (_segs[i].number == p.segment) {
      return SpoolRef{p.offset, static_cast<uint32_t>(p.size), static_cast<uint32_t>(i)};
    }
  }
  return SpoolRef{};
}

void Segments::acquire(const SpoolRef& ref) {
  if (ref.valid() && !ref.recovered() && ref.seg < _segs.size()) {
    _ledger.acquire(_segs[ref.seg].number);
  }
}

void Segments::release(const SpoolRef& ref) {
  if (!ref.valid()) {
    return;
  }
  if (ref.recovered()) {
    if (_recovered != nullptr) {
      _recovered->release();
    }
  } else if (ref.seg < _segs.size()) {
    _ledger.release(_segs[ref.seg].number);
  }
}

int Segments::read_fd(const SpoolRef& ref) const {
  if (ref.recovered()) {
    return _recovered != nullptr ? _recovered->fd(ref.index()) : -1;
  }
  return ref.seg < _segs.size() ? _segs[ref.seg].fd : -1;
}

std::optional<Segments::Oldest> Segments::oldest_holding_back(size_t min_segments) const {
  const spool::SegmentLedger::Segment* old = _ledger.oldest();
  if (old == nullptr || old->live == 0 || _ledger.size() < min_segments) {
    return std::nullopt;
  }
  for (uint32_t slot = 0; slot < _segs.size(); ++slot) {
    if (_segs[slot].number == old->number) {
      return Oldest{slot, old->number, old->live};
    }
  }
  return std::nullopt;
}

void Segments::maybe_delete() {
  if (_busy || _ctx.stopping || _dir_fd < 0) {
    return;
  }
  if (_recovered != nullptr && !_recovered->retired()) {
    return;  // their state records must outlive the adopted messages' (segments.h)
  }
  std::optional<uint64_t> n = _ledger.next_deletable();
  if (!n) {
    return;
  }
  _ledger.deleting(*n);
  _busy = true;
  _number = *n;
  _name = spool::segment_file_name(*n);
  // Close our read fd first, while the file still has its name: closing
  // the last reference to an unlinked file frees its blocks in the closing
  // thread. This way that work happens inside the unlink, in io-wq. (No
  // read can be pending: nothing live is in the segment.)
  for (OwnSegment& s : _segs) {
    if (s.number == *n && s.fd >= 0) {
      ::close(s.fd);
      s.fd = -1;
    }
  }
  io_uring_sqe* sqe = _ctx.ring.sqe();
  // IORING_OP_UNLINKAT (5.11+): the unlink runs in io-wq, not on this thread.
  io_uring_prep_unlinkat(sqe, _dir_fd, _name.c_str(), 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolUnlink));
}

void Segments::on_completion(const UserData& ud, io_uring_cqe* cqe) {
  if (ud.op == Op::kSpoolUnlink) {
    on_unlinked(cqe->res);
  } else {
    on_dir_synced(cqe->res);
  }
}

void Segments::on_unlinked(int res) {
  if (res < 0) {
    log_error("shard %u: unlink %s/%s: %s; no more segments are deleted in this run", _ctx.id,
              spool::shard_dir(_ctx.config.spool_dir, _ctx.id), _name, strerror(-res));
    _ledger.stuck();
    _busy = false;
    return;
  }
  // The unlink is durable once the directory is; the next deletion waits
  // for this fsync (issued after the unlink's completion, not linked to it,
  // so a full submission queue can never split the pair).
  io_uring_sqe* sqe = _ctx.ring.sqe();
  io_uring_prep_fsync(sqe, _dir_fd, 0);
  io_uring_sqe_set_data64(sqe, encode(Op::kSpoolDirSync));
}

void Segments::on_dir_synced(int res) {
  _busy = false;
  if (res < 0) {
    log_error("shard %u: fsync %s: %s; no more segments are deleted in this run", _ctx.id,
              spool::shard_dir(_ctx.config.spool_dir, _ctx.id), strerror(-res));
    _ledger.stuck();
    return;
  }
  _ledger.deleted(_number);
  ++_deleted;
  log_debug("shard %u: deleted spool segment %s", _ctx.id, _name);
  maybe_delete();
}

}  // namespace ringmta

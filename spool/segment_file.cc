#include "spool/segment_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "spool/errors.h"
#include "spool/layout.h"

namespace ringmta::spool {
namespace {

// Preallocation is off because it measured slower here: bench/spool_benchmark
// BM_SyncedWrite, 8 KiB write + fdatasync, side by side on ext4 (2026-11-22):
// growing file ~230-275 us, into a 256 MiB fallocate'd segment ~320-370 us
// (KEEP_SIZE alike), into space written before ~190-220 us. A small
// fallocate'd span gained only ~3%, within the noise. Recovery still reads
// zeros after the last record as the end, so turning it on stays safe.
constexpr bool kPreallocate = false;
constexpr int kMaxNameTries = 64;

}  // namespace

SegmentFile::SegmentFile(SegmentFile&& o) noexcept
    : _fd(std::exchange(o._fd, -1)),
      _number(o._number),
      _preallocated(o._preallocated),
      _path(std::move(o._path)) {}

SegmentFile& SegmentFile::operator=(SegmentFile&& o) noexcept {
  if (this != &o) {
    close();
    _fd = std::exchange(o._fd, -1);
    _number = o._number;
    _preallocated = o._preallocated;
    _path = std::move(o._path);
  }
  return *this;
}

SegmentFile::~SegmentFile() { close(); }

void SegmentFile::trim(uint64_t size) {
  if (_fd >= 0 && _preallocated) {
    (void)::ftruncate(_fd, static_cast<off_t>(size));
  }
}

void SegmentFile::close() {
  if (_fd >= 0) {
    ::close(_fd);
    _fd = -1;
  }
}

absl::StatusOr<SegmentFile> SegmentFile::create(const std::string& dir, uint64_t number,
                                                uint64_t segment_bytes) {
  SegmentFile f;
  for (int i = 0; i < kMaxNameTries; ++i, ++number) {
    f._path = absl::StrCat(dir, "/", segment_file_name(number));
    // Read-write: the engine reads records back through this file (a
    // deferred message's body is not kept in memory).
    f._fd = ::open(f._path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (f._fd >= 0) {
      break;
    }
    if (errno != EEXIST) {
      return errno_status("open", f._path);
    }
  }
  if (f._fd < 0) {
    return errno_status(EEXIST, "open", f._path);
  }
  f._number = number;
  if (kPreallocate && segment_bytes > 0) {
    f._preallocated = true;
    // Best effort: without it (no support, or a nearly full disk) the
    // segment works the same, each sync just costs a little more.
    (void)::fallocate(f._fd, 0, 0, static_cast<off_t>(segment_bytes));
  }
  // Without this a durable record could sit in a file whose name is lost.
  absl::Status st = sync_dir(dir);
  if (!st.ok()) {
    ::unlink(f._path.c_str());
    return st;
  }
  return f;
}

}  // namespace ringmta::spool

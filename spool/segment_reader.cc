#include "spool/segment_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "spool/errors.h"

namespace ringmta::spool {
namespace {

constexpr size_t kChunk = 1 << 20;  // read size: few syscalls, small memory

}  // namespace

SegmentReader::SegmentReader(SegmentReader&& o) noexcept { *this = std::move(o); }

SegmentReader& SegmentReader::operator=(SegmentReader&& o) noexcept {
  if (this != &o) {
    if (_fd >= 0) {
      ::close(_fd);
    }
    _fd = std::exchange(o._fd, -1);
    _path = std::move(o._path);
    _size = o._size;
    _offset = o._offset;
    _record_offset = o._record_offset;
    _buf = std::move(o._buf);
    _pos = o._pos;
    _rec = std::move(o._rec);
    _end = o._end;
    _torn_reason = o._torn_reason;
  }
  return *this;
}

SegmentReader::~SegmentReader() {
  if (_fd >= 0) {
    ::close(_fd);
  }
}

absl::StatusOr<SegmentReader> SegmentReader::open(const std::string& path, bool writable) {
  SegmentReader r;
  r._path = path;
  r._fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (r._fd < 0) {
    return errno_status("open", path);
  }
  struct stat st;
  if (::fstat(r._fd, &st) < 0) {
    return errno_status("fstat", path);
  }
  r._size = static_cast<uint64_t>(st.st_size);
  return r;
}

// fill makes at least need bytes (the caller checked they are in the file)
// available at _buf[_pos].
absl::Status SegmentReader::fill(size_t need) {
  _buf.erase(0, _pos);
  _pos = 0;
  const uint64_t file_left = _size - _offset;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(need, kChunk), file_left));
  size_t have = _buf.size();
  if (have >= want) {
    return absl::OkStatus();
  }
  _buf.resize(want);
  while (have < want) {
    ssize_t n = ::pread(_fd, _buf.data() + have, want - have, static_cast<off_t>(_offset + have));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_status("pread", _path);
    }
    if (n == 0) {
      // The file shrank under us: treat what we have as all there is.
      _size = _offset + have;
      break;
    }
    have += static_cast<size_t>(n);
  }
  _buf.resize(have);
  return absl::OkStatus();
}

absl::StatusOr<const DecodedRecord*> SegmentReader::next() {
  while (_end == End::kNone) {
    if (_offset == _size) {
      _end = End::kFile;
      break;
    }
    std::string_view avail(_buf.data() + _pos, _buf.size() - _pos);
    _rec = decode_record(avail);
    switch (_rec.status) {
      case DecodeStatus::kRecord:
        _record_offset = _offset;
        _offset += _rec.size;
        _pos += _rec.size;
        return &_rec;
      case DecodeStatus::kEnd:
        _end = End::kZeros;
        break;
      case DecodeStatus::kCorrupt:
        _end = End::kTorn;
        _torn_reason = _rec.error;
        break;
      case DecodeStatus::kNeedMore: {
        const uint64_t file_left = _size - _offset;
        if (_rec.size <= file_left) {
          // If the file shrank meanwhile, fill() lowers _size and the next
          // pass lands below.
          SPOOL_RETURN_IF_ERROR(fill(_rec.size));
        } else if (avail.size() >= kHeaderSize) {
          _end = End::kTorn;  // decided by the header: no need to read the rest
          _torn_reason = "record runs past the end of the file";
        } else if (avail.size() < file_left) {
          SPOOL_RETURN_IF_ERROR(fill(static_cast<size_t>(file_left)));
        } else if (avail.find_first_not_of('\0') == std::string_view::npos) {
          _end = End::kZeros;  // a few zeros: the end of preallocated space
        } else {
          _end = End::kTorn;
          _torn_reason = "record header runs past the end of the file";
        }
        break;
      }
    }
  }
  return nullptr;
}

absl::Status SegmentReader::cut(bool sync) {
  if (::ftruncate(_fd, static_cast<off_t>(_offset)) < 0) {
    return errno_status("ftruncate", _path);
  }
  if (sync && ::fdatasync(_fd) < 0) {
    return errno_status("fdatasync", _path);
  }
  _size = _offset;
  return absl::OkStatus();
}

}  // namespace ringmta::spool

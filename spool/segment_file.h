// spool/segment_file.h — one segment file being written: created new (never
// reopened: recovery owns old ones), its directory entry made durable before
// any record goes in. Move-only; closes on destruction.
//
//   auto f = SegmentFile::create("/spool/shard-0", next_number, 256 << 20);
//   pwritev(f->fd(), ...);
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ringmta::spool {

class SegmentFile {
 public:
  SegmentFile() = default;
  SegmentFile(SegmentFile&& o) noexcept;
  SegmentFile& operator=(SegmentFile&& o) noexcept;
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;
  ~SegmentFile();

  // create makes dir/seg-<N>.log with the lowest N >= number that is free
  // (O_EXCL, mode 0600, opened read-write), preallocates it if that is on (see the .cc), and
  // fsyncs dir.
  static absl::StatusOr<SegmentFile> create(const std::string& dir, uint64_t number,
                                            uint64_t segment_bytes);

  int fd() const { return _fd; }
  uint64_t number() const { return _number; }
  const std::string& path() const { return _path; }  // kept after close()
  // trim gives back preallocated space past size, if any was (best effort;
  // at a clean shutdown, so restarts leave no empty preallocated segments).
  void trim(uint64_t size);
  void close();

 private:
  int _fd = -1;
  uint64_t _number = 0;
  bool _preallocated = false;
  std::string _path;
};

}  // namespace ringmta::spool

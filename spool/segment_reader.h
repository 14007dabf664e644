// spool/segment_reader.h — reads one segment's records in order, with
// blocking I/O (recovery, tools, compaction), a bounded buffer at a time.
//
//   auto r = SegmentReader::open(path, /*writable=*/false);
//   while (const DecodedRecord* rec = *r->next()) { ... r->record_offset() ... }
//   if (r->end() == SegmentReader::End::kTorn) { r->end_offset(), r->torn_reason() }
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spool/record.h"

namespace ringmta::spool {

class SegmentReader {
 public:
  enum class End {
    kNone,   // not at the end yet
    kFile,   // the file ends right after the last record
    kZeros,  // a zero header (preallocated space) follows the last record
    kTorn,   // a record that runs past the end or fails its checksum
  };

  SegmentReader(SegmentReader&& o) noexcept;
  SegmentReader& operator=(SegmentReader&& o) noexcept;
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;
  ~SegmentReader();

  // open opens path read-only, or read-write to let cut() shorten it.
  static absl::StatusOr<SegmentReader> open(const std::string& path, bool writable);

  // next returns the next valid record (valid until the next call), or
  // nullptr at the end; an error only when reading the file fails.
  absl::StatusOr<const DecodedRecord*> next();

  uint64_t record_offset() const { return _record_offset; }  // of the last record
  End end() const { return _end; }
  uint64_t end_offset() const { return _offset; }  // where the data ends
  uint64_t file_size() const { return _size; }
  std::string_view torn_reason() const { return _torn_reason; }
  const std::string& path() const { return _path; }

  // cut truncates the file to end_offset() and fsyncs it (writable only).
  absl::Status cut(bool sync);

 private:
  SegmentReader() = default;
  absl::Status fill(size_t need);

  int _fd = -1;
  std::string _path;
  uint64_t _size = 0;
  uint64_t _offset = 0;         // file offset of _buf[_pos]
  uint64_t _record_offset = 0;
  std::string _buf;
  size_t _pos = 0;
  DecodedRecord _rec;
  End _end = End::kNone;
  std::string_view _torn_reason;
};

}  // namespace ringmta::spool

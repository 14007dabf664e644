// spool/retire_list.h — deleting a group of segments as one, across shard
// directories: the segments a start found (recovery's), once every message
// in them is final or has been copied into a segment of this run.
//
//   ROOT/retire.list   one "shard-N/seg-<16 hex>.log" per line
//
//   retire_segments(root, {root + "/shard-3/seg-...log", ...});  // blocking
//   finish_retire(root);   // at start, before recovery scans (kRepair)
//
// Why a list and not plain unlinks: those segments come from several runs
// and directories, and their state records refer to one another's
// messages in no order that could be told from the files (a message
// adopted by another shard after a shard-count change has its state in
// that shard's directory). Unlinking them one by one, a crash half-way
// could keep a message and lose the record that said it was delivered.
// So the list is written first (temp file, fsync, rename, fsync ROOT): from
// then on the whole group counts as deleted, and a crash before the last
// unlink is finished by the next start. Readers (kReadOnly) skip the
// listed segments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringmta::spool {

inline constexpr char kRetireListName[] = "retire.list";

// retire_segments writes the list, unlinks every segment in it (missing
// ones are fine), fsyncs their directories, then removes the list. Paths
// must be segments in shard directories directly under root.
absl::Status retire_segments(const std::string& root, const std::vector<std::string>& segment_paths);

// valid_entry: rel is "shard-N/seg-<16 hex>.log" (no other path is ever
// unlinked from a list, whatever the file says).
bool valid_entry(std::string_view rel);

// read_retire_list: the full paths in a pending list (empty when none).
absl::StatusOr<std::vector<std::string>> read_retire_list(const std::string& root);

// finish_retire completes a pending list a crash interrupted; returns how
// many segments it removed.
absl::StatusOr<size_t> finish_retire(const std::string& root);

}  // namespace ringmta::spool

// spool/layout.h — where things live under a spool root:
//
//   ROOT/lock                       SpoolLock (the running engine's pid)
//   ROOT/shard-N/                   one directory per shard
//   ROOT/shard-N/seg-<16 hex>.log   that shard's segments, oldest first
//
//   std::string dir = shard_dir("/var/spool/ringmta", 3);  // ".../shard-3"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta::spool {

// shard_dir: root + "/shard-" + N.
std::string shard_dir(const std::string& root, unsigned shard);

// segment_file_name: "seg-" + 16 upper-case hex digits + ".log"; fixed width,
// so name order is number order.
std::string segment_file_name(uint64_t number);

// parse_segment_file_name: the number in a segment's name, or nullopt.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

// parse_shard_dir_name: N in "shard-N", or nullopt.
std::optional<unsigned> parse_shard_dir_name(std::string_view name);

// list_shard_dirs: every shard-N directory under root as (N, path), by N.
absl::StatusOr<std::vector<std::pair<unsigned, std::string>>> list_shard_dirs(
    const std::string& root);

// list_segments: every segment in dir as (number, path), oldest first.
absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> list_segments(
    const std::string& dir);

// make_dirs creates path and its missing parents with mode.
absl::Status make_dirs(const std::string& path, unsigned mode);

// sync_dir fsyncs a directory, so entries created in it survive a crash.
absl::Status sync_dir(const std::string& dir);

}  // namespace ringmta::spool

// engine/suppression/feedback_key.h — the secret that keys VERP tokens
// (proto/verp.h): 32 random bytes in a file only the daemon may read,
// made at the first start. Every instance that shares the feedback domains
// must share the file, or its tokens do not verify elsewhere.
//
//   absl::StatusOr<std::string> key = load_feedback_key("/var/spool/ringmta/feedback.key");
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace ringmta {

// load_feedback_key reads the key file, or makes it (O_EXCL, 0600, synced
// with its directory) when it does not exist. An error names the file and
// the fix: unreadable, shorter than 16 bytes, or readable by others.
absl::StatusOr<std::string> load_feedback_key(const std::string& path);

}  // namespace ringmta

#include "spool/recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "spool/errors.h"
#include "spool/layout.h"
#include "spool/retire_list.h"
#include "spool/segment_reader.h"

namespace ringmta::spool {
namespace {

int rank(RcptStatus s) {
  switch (s) {
    case RcptStatus::kPending:
      return 0;
    case RcptStatus::kDeferred:
      return 1;
    case RcptStatus::kDelivered:
    case RcptStatus::kBounced:
      return 2;
  }
  return 0;
}

struct Scan {
  RecoverMode mode;
  RecoveryReport report;
  absl::flat_hash_map<std::string, RecoveredMessage> messages;
  std::vector<RecipientStateRecord> states;
};

void take_message(const SegmentReader& r, const DecodedRecord& rec, Scan& scan) {
  const MessageMeta& m = rec.message;
  if (m.queue_id > scan.report.max_queue_id) {
    scan.report.max_queue_id = m.queue_id;
  }
  // A copy of a message (compaction copies live ones forward) is the same
  // message: keep the first.
  if (scan.messages.contains(m.queue_id)) {
    return;
  }
  RecoveredMessage out;
  out.queue_id = m.queue_id;
  out.arrival = m.arrival;
  out.envelope = m.envelope;
  out.content_size = m.content_size;
  out.segment_path = r.path();
  out.segment = static_cast<uint32_t>(scan.report.segments.size() - 1);
  out.record_offset = r.record_offset();
  out.record_size = rec.size;
  out.content_offset = r.record_offset() + rec.content_offset;
  out.rcpt_state.resize(m.envelope.recipients.size());
  scan.messages.emplace(m.queue_id, std::move(out));
}

absl::Status scan_segment(const std::string& path, Scan& scan) {
  const bool repair = scan.mode == RecoverMode::kRepair;
  absl::StatusOr<SegmentReader> r = SegmentReader::open(path, repair);
  if (!r.ok()) {
    if (!repair && absl::IsNotFound(r.status())) {
      return absl::OkStatus();  // deleted by the running engine since the listing
    }
    return r.status();
  }
  ++scan.report.segments_scanned;
  scan.report.segments.push_back(path);
  uint64_t records = 0;
  for (;;) {
    absl::StatusOr<const DecodedRecord*> rec = r->next();
    if (!rec.ok()) {
      return rec.status();
    }
    if (*rec == nullptr) {
      break;
    }
    ++records;
    if ((*rec)->type == RecordType::kMessage) {
      ++scan.report.message_records;
      take_message(*r, **rec, scan);
    } else if ((*rec)->type == RecordType::kRecipientState) {
      scan.states.push_back((*rec)->rcpt);
    }
  }
  scan.report.records += records;
  if (r->end() == SegmentReader::End::kTorn) {
    scan.report.torn_tails.push_back(TornTail{path, r->end_offset(),
                                              r->file_size() - r->end_offset(),
                                              std::string(r->torn_reason())});
    if (repair) {
      SPOOL_RETURN_IF_ERROR(r->cut(/*sync=*/true));
    }
  } else if (repair && records == 0) {
    // Left by a run that wrote nothing: no record to keep.
    if (::unlink(path.c_str()) < 0) {
      return errno_status("unlink", path);
    }
    ++scan.report.segments_removed;
    scan.report.segments.pop_back();  // held no message: no index points at it
  } else if (repair && r->end() == SegmentReader::End::kZeros) {
    // Give back preallocated space an unclean stop left; losing this on a
    // crash costs only space, so no sync.
    SPOOL_RETURN_IF_ERROR(r->cut(/*sync=*/false));
  }
  return absl::OkStatus();
}

}  // namespace

RecipientState merge_state(const RecipientState& a, const RecipientState& b) {
  if (rank(a.status) != rank(b.status)) {
    return rank(a.status) > rank(b.status) ? a : b;
  }
  if (a.attempts != b.attempts) {
    return a.attempts > b.attempts ? a : b;
  }
  return b.next_retry > a.next_retry ? b : a;
}

absl::StatusOr<RecoveryReport> recover(const std::string& spool_root, RecoverMode mode) {
  struct stat st;
  if (::stat(spool_root.c_str(), &st) < 0) {
    return errno_status("stat", spool_root);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("stat ", spool_root, ": not a directory"));
  }
  absl::StatusOr<std::vector<std::pair<unsigned, std::string>>> shards =
      list_shard_dirs(spool_root);
  if (!shards.ok()) {
    return shards.status();
  }
  Scan scan{mode, {}, {}, {}};
  absl::flat_hash_set<std::string> retired;
  if (mode == RecoverMode::kRepair) {
    absl::StatusOr<size_t> n = finish_retire(spool_root);
    if (!n.ok()) {
      return n.status();
    }
    scan.report.segments_retired = *n;
  } else {
    absl::StatusOr<std::vector<std::string>> listed = read_retire_list(spool_root);
    if (!listed.ok()) {
      return listed.status();
    }
    retired.insert(listed->begin(), listed->end());
  }
  for (const auto& [n, dir] : *shards) {
    absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> segs = list_segments(dir);
    if (!segs.ok()) {
      return segs.status();
    }
    if (!segs->empty()) {
      scan.report.highest_segment[n] = segs->back().first;
    }
    for (const auto& [number, path] : *segs) {
      if (!retired.contains(path)) {
        SPOOL_RETURN_IF_ERROR(scan_segment(path, scan));
      }
    }
  }
  // States are applied after every directory is read: a state record may be
  // read before its message (see the header).
  for (const RecipientStateRecord& s : scan.states) {
    auto it = scan.messages.find(s.queue_id);
    if (it == scan.messages.end() || s.rcpt_index >= it->second.rcpt_state.size()) {
      continue;  // its message is gone (all final, segment deleted)
    }
    RecipientState& cur = it->second.rcpt_state[s.rcpt_index];
    cur = merge_state(cur, s.state);
  }
  RecoveryReport& report = scan.report;
  for (auto& [id, m] : scan.messages) {
    bool live = std::any_of(m.rcpt_state.begin(), m.rcpt_state.end(),
                            [](const RecipientState& s) { return !is_final(s.status); });
    if (live) {
      report.messages.push_back(std::move(m));
    }
  }
  std::sort(report.messages.begin(), report.messages.end(),
            [](const RecoveredMessage& a, const RecoveredMessage& b) {
              return a.queue_id < b.queue_id;
            });
  return std::move(report);
}

absl::StatusOr<std::string> read_content(const RecoveredMessage& message) {
  if (message.content_size > kMaxPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat("read ", message.segment_path, ": content size ", message.content_size,
                     " over the record limit"));
  }
  int fd = ::open(message.segment_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_status("open", message.segment_path);
  }
  std::string out(message.content_size, '\0');
  size_t have = 0;
  while (have < out.size()) {
    ssize_t n = ::pread(fd, out.data() + have, out.size() - have,
                        static_cast<off_t>(message.content_offset + have));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : 0;
      ::close(fd);
      if (err != 0) {
        return errno_status(err, "pread", message.segment_path);
      }
      return absl::DataLossError(absl::StrCat("pread ", message.segment_path,
                                              ": file ends inside the message ",
                                              message.queue_id));
    }
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

}  // namespace ringmta::spool

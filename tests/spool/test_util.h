// tests/spool/test_util.h — what the spool tests share: a temporary
// directory on the real disk, sample envelopes, and a blocking stand-in for
// the engine's io_uring write + fdatasync.
#pragma once

#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/envelope.h"
#include "spool/segment_writer.h"

namespace ringmta::spool::testing {

// TempDir is a fresh directory, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "spool_test.XXXXXX";
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << "mkdtemp " << tmpl;
    _path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
  }
  const std::string& path() const { return _path; }

 private:
  std::string _path;
};

inline proto::Envelope sample_envelope(int i, int nrcpt = 2) {
  proto::Envelope e;
  e.sender = i % 5 == 0 ? "" : absl::StrCat("sender", i, "@example.test");
  for (int r = 0; r < nrcpt; ++r) {
    e.recipients.push_back(absl::StrCat("rcpt", i, "-", r, "@dest", r, ".test"));
  }
  e.body = i % 2 ? proto::BodyType::k8BitMime : proto::BodyType::k7Bit;
  e.smtputf8 = i % 3 == 0;
  e.declared_size = 1000 + i;
  e.helo = "client.example.test";
  e.client_addr = "127.0.0.1";
  e.auth_user = i % 4 == 0 ? "alice" : "";
  return e;
}

inline std::string sample_body(int i, size_t size = 300) {
  std::string body = absl::StrCat("Subject: message ", i, "\r\n\r\n");
  while (body.size() < size) {
    body += absl::StrCat("line ", body.size(), " of message ", i, "\r\n");
  }
  return body;
}

// write_all performs a Batch with blocking pwritev, as the engine's writev
// SQE would; returns what the engine would see in cqe->res.
inline int pwritev_once(const SegmentWriter::Batch& b, size_t max_bytes = SIZE_MAX) {
  if (max_bytes != SIZE_MAX) {
    // Simulate a short write: write only the first max_bytes.
    std::string flat;
    for (const iovec& v : b.iov) {
      flat.append(static_cast<const char*>(v.iov_base), v.iov_len);
    }
    flat.resize(std::min(flat.size(), max_bytes));
    ssize_t n = ::pwrite(b.fd, flat.data(), flat.size(), static_cast<off_t>(b.offset));
    return n < 0 ? -errno : static_cast<int>(n);
  }
  ssize_t n = ::pwritev(b.fd, b.iov.data(), static_cast<int>(b.iov.size()),
                        static_cast<off_t>(b.offset));
  return n < 0 ? -errno : static_cast<int>(n);
}

inline int fdatasync_res(int fd) { return ::fdatasync(fd) < 0 ? -errno : 0; }

// flush runs one whole batch: write (resuming short writes), then sync.
inline absl::Status flush_batch(SegmentWriter& w) {
  SegmentWriter::Batch b = w.start_batch();
  for (;;) {
    absl::StatusOr<SegmentWriter::WriteResult> r = w.on_write_done(pwritev_once(b));
    if (!r.ok()) {
      return r.status();
    }
    if (*r == SegmentWriter::WriteResult::kWaitSync) {
      break;
    }
    b = w.resume_batch();
  }
  return w.on_sync_done(fdatasync_res(b.fd));
}

// flush_all runs batches until nothing is pending.
inline absl::Status flush_all(SegmentWriter& w) {
  while (w.can_start_batch()) {
    absl::Status st = flush_batch(w);
    if (!st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace ringmta::spool::testing

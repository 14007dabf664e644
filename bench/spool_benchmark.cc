// spool_benchmark — the spool's durable append path, with real fdatasync on
// the real disk (/var/tmp, not tmpfs), the engine's io_uring write + sync
// stood in for by pwritev + fdatasync.
//
//   BM_SpoolAppend/B      SegmentWriter, B 1 KB messages per group commit
//   BM_SyncedWrite        one 8 KiB write + fdatasync, in turn into: a growing
//                         file, a 256 MiB fallocate'd segment (size set),
//                         the same with KEEP_SIZE, space written before:
//                         mean us per sync
//                         (what segment_file.cc's kPreallocate was chosen by)
//   BM_WriterCpu/B        the writer's CPU per message, no I/O
//   BM_Crc32c/N           checksum throughput
//
// Runs are short (a few hundred syncs each): the disk is shared and noisy, so
// compare rows of one run as ratios.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "spool/crc32c.h"
#include "spool/layout.h"
#include "spool/queue_id.h"
#include "spool/segment_writer.h"

namespace ringmta::spool {
namespace {

constexpr int kSyncs = 300;

// BenchDir is a fresh directory on the real disk, removed afterwards.
class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("SPOOL_BENCH_DIR");
    std::string tmpl = std::string(base != nullptr ? base : "/var/tmp") + "/ringmta-bench.XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) {
      _path = tmpl;
    }
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
  }
  const std::string& path() const { return _path; }

 private:
  std::string _path;
};

struct Sample {
  proto::Envelope env;
  std::string body;
  std::string trace = "Received: from bench.example.test by ringmta\r\n";
  Sample() {
    env.sender = "bulk@sender.example.test";
    env.recipients = {"someone@dest.example.test"};
    env.helo = "bench.example.test";
    env.client_addr = "127.0.0.1";
    body = "Subject: bench\r\n\r\n";
    body.resize(1024 - trace.size(), 'x');  // 1 KB of content
  }
};

bool flush(SegmentWriter& w) {
  while (w.can_start_batch()) {
    SegmentWriter::Batch b = w.start_batch();
    for (;;) {
      ssize_t n = ::pwritev(b.fd, b.iov.data(), static_cast<int>(b.iov.size()),
                            static_cast<off_t>(b.offset));
      auto r = w.on_write_done(n < 0 ? -errno : static_cast<int>(n));
      if (!r.ok()) {
        return false;
      }
      if (*r == SegmentWriter::WriteResult::kWaitSync) {
        break;
      }
      b = w.resume_batch();
    }
    if (!w.on_sync_done(::fdatasync(b.fd) < 0 ? -errno : 0).ok()) {
      return false;
    }
  }
  return true;
}

void BM_SpoolAppend(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  BenchDir dir;
  Sample s;
  QueueIdGenerator gen(0);
  std::vector<std::string> ids(batch);
  auto w = SegmentWriter::open(shard_dir(dir.path(), 0), {});
  if (!w.ok()) {
    state.SkipWithError(std::string(w.status().message()).c_str());
    return;
  }
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      ids[i] = gen.next(absl::Now());
      (*w)->append_message(MessageRecord{ids[i], absl::Now(), &s.env, s.trace, s.body});
    }
    if (!flush(**w)) {
      state.SkipWithError("write or sync failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * 1024);
}
BENCHMARK(BM_SpoolAppend)->Arg(1)->Arg(8)->Arg(64)->Iterations(kSyncs)->UseRealTime();

// open_mode opens a file prepared as mode says (see the top of the file).
int open_mode(const std::string& path, int mode, off_t span) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (mode == 1 || mode == 2) {
    // As the writer does: the whole default segment (256 MiB) at once.
    ::fallocate(fd, mode == 2 ? FALLOC_FL_KEEP_SIZE : 0, 0, off_t{256} << 20);
  } else if (mode == 3) {
    std::string zeros(1 << 20, '\0');
    for (off_t o = 0; o < span; o += static_cast<off_t>(zeros.size())) {
      ::pwrite(fd, zeros.data(), zeros.size(), o);
    }
  }
  ::fsync(fd);
  return fd;
}

// The four modes take turns write by write, so a noisy disk slows them alike:
// compare the us_* counters with each other.
void BM_SyncedWrite(benchmark::State& state) {
  constexpr size_t kWrite = 8192;
  constexpr int kModes = 4;
  BenchDir dir;
  const off_t span = static_cast<off_t>(kWrite) * (kSyncs + 10);
  int fds[kModes];
  for (int m = 0; m < kModes; ++m) {
    fds[m] = open_mode(dir.path() + "/seg" + std::to_string(m), m, span);
  }
  std::string data(kWrite, 'x');
  double total_us[kModes] = {};
  off_t off = 0;
  for (auto _ : state) {
    for (int m = 0; m < kModes; ++m) {
      auto t0 = std::chrono::steady_clock::now();
      ::pwrite(fds[m], data.data(), kWrite, off);
      ::fdatasync(fds[m]);
      total_us[m] += std::chrono::duration<double, std::micro>(
                         std::chrono::steady_clock::now() - t0).count();
    }
    off += static_cast<off_t>(kWrite);
  }
  const char* names[kModes] = {"us_grow", "us_fallocate", "us_keep_size", "us_prewritten"};
  for (int m = 0; m < kModes; ++m) {
    ::close(fds[m]);
    state.counters[names[m]] = total_us[m] / static_cast<double>(state.iterations());
  }
}
BENCHMARK(BM_SyncedWrite)->Iterations(kSyncs)->UseRealTime();

void BM_WriterCpu(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  BenchDir dir;
  Sample s;
  WriterOptions o;
  o.segment_bytes = uint64_t{1} << 40;  // never rotate
  auto w = SegmentWriter::open(shard_dir(dir.path(), 0), o);
  if (!w.ok()) {
    state.SkipWithError(std::string(w.status().message()).c_str());
    return;
  }
  const std::string id = "0009A1F3C2D40100";
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      (*w)->append_message(MessageRecord{id, absl::UnixEpoch(), &s.env, s.trace, s.body});
    }
    SegmentWriter::Batch b = (*w)->start_batch();
    size_t total = 0;
    for (const iovec& v : b.iov) {
      total += v.iov_len;
    }
    benchmark::DoNotOptimize((*w)->on_write_done(static_cast<int>(total)));
    benchmark::DoNotOptimize((*w)->on_sync_done(0));
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_WriterCpu)->Arg(1)->Arg(64);

void BM_Crc32c(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c(data));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(1024)->Arg(64 << 10);

}  // namespace
}  // namespace ringmta::spool

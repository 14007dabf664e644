// engine/inbound/maildrop_reader.h — the pickup's thread: it watches the
// maildrop directory (spool/maildrop.h: files left by ringmta-sendmail and
// ringmta-ctl import-postfix-queue), reads new files, and hands them to
// shard 0's Pickup (pickup.h), which stores them; once a file's messages
// are durable it is deleted here. Reading files is blocking I/O, so it
// runs on a thread of its own, never on a shard's.
//
//   MaildropReader reader(dir, max_file);   // main(), after dropping root
//   reader.start();
//   shard 0:  if (reader.ready()) for (auto& f : reader.take()) ...;
//             reader.finish(name, Outcome::kStored, "");
//   reader.stop();                           // after the shards have stopped
//
// The directory is scanned at start and every second (Postfix's pickup is
// woken by a FIFO instead; a scan a second costs little and needs no
// trigger a local user could flood). A file is read at most once until it
// is finished; at most kMaxFiles files and kMaxBytes octets are in flight,
// so a backlog of any size is worked through in bounded memory.
//
// What is read is checked, since every local user may write here: a
// regular file with one link (a hard link to a file ringmta can read is
// refused), no larger than max_file. A file that cannot be a message is
// renamed ".bad.NAME" (never read again, kept for the operator) and logged.
//
// Delivery is at least once: a crash after a file's messages are durable
// and before its unlink is durable picks the file up again at the next
// start, and the message is sent twice. Never zero times.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace ringmta {

class MaildropReader {
 public:
  static constexpr size_t kMaxFiles = 256;
  static constexpr size_t kMaxBytes = 64u << 20;

  struct File {
    std::string name;
    std::string bytes;
  };
  enum class Outcome {
    kStored,  // every message of it is durable: delete the file
    kRetry,   // the store failed: read it again at the next scan
    kBad,     // it is not a message: set it aside
  };

  // max_file: the largest file read (the message size limit plus its
  // envelope); larger ones are set aside.
  MaildropReader(std::string dir, uint64_t max_file);
  ~MaildropReader();
  MaildropReader(const MaildropReader&) = delete;
  MaildropReader& operator=(const MaildropReader&) = delete;

  // start opens the directory (it must exist: prepare_maildrop made it)
  // and starts the thread; stop ends it (files taken and not finished are
  // read again at the next start).
  absl::Status start();
  void stop();

  // Shard 0's side. ready: files wait to be taken (one atomic load).
  bool ready() const { return _ready.load(std::memory_order_acquire); }
  // busy: files are read and not finished, or wait to be read: shard 0
  // then sleeps briefly instead of up to its tick, so that a backlog
  // moves at the store's pace (an idle maildrop costs nothing).
  bool busy() const { return _busy.load(std::memory_order_relaxed); }
  std::vector<File> take();
  // finish: what became of a file take() handed out; why is logged for kBad.
  void finish(std::string name, Outcome outcome, std::string why);

  // Counters, for the stop log and tests.
  uint64_t picked_up() const { return _picked_up.load(std::memory_order_relaxed); }
  uint64_t set_aside() const { return _set_aside.load(std::memory_order_relaxed); }

 private:
  struct Finished {
    std::string name;
    Outcome outcome;
    std::string why;
  };
  void run();
  void settle(std::vector<Finished>& done);
  void scan();
  void read_backlog();
  void read_one(const std::string& name, std::vector<File>& out);
  void set_aside(const std::string& name, const std::string& why);

  const std::string _dir;
  const uint64_t _max_file;
  int _dir_fd = -1;

  std::mutex _mu;  // guards what both sides touch, below
  std::condition_variable _wake;
  std::vector<File> _out;          // read, not yet taken
  std::vector<Finished> _done;     // finished, not yet settled
  bool _stopping = false;
  std::atomic<bool> _ready{false};
  std::atomic<bool> _busy{false};

  // The thread's own.
  absl::flat_hash_map<std::string, size_t> _taken;  // read, not yet finished: its size
  std::vector<std::string> _backlog;  // the last scan's names not yet read, oldest last
  size_t _in_flight_bytes = 0;
  std::atomic<uint64_t> _picked_up{0};
  std::atomic<uint64_t> _set_aside{0};
  std::thread _thread;
};

}  // namespace ringmta

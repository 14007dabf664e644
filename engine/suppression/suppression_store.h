// engine/suppression/suppression_store.h — the suppression list: addresses
// and domains never to be mailed, shared by every shard, durable.
//
//   auto s = SuppressionStore::open("spool/suppression", 8ull << 30);   // StatusOr
//   auto r = (*s)->reader();               // one per thread (a shard's)
//   SuppressionEntry e;
//   if (r->find("bob@example.com", tenant, &e)) { 550 5.7.1 ... refusal_text(e) }
//   uint64_t t = (*s)->submit({{SuppressionChange::kPut, entry}});  // any thread
//   ... later: (*s)->done(t, &status) once it is on disk
//
// Why LMDB (Debian liblmdb-dev 0.9): a memory-mapped B+tree where a read is
// a few pointer walks through pages the kernel caches, with no lock and no
// system call (a reader only publishes its transaction id in a slot of its
// own); readers never block the writer nor each other, which is exactly a
// shard-per-core hot path checking every RCPT. There is one writer at a
// time, and a commit is durable when it returns (two fsyncs: data, then
// the meta page): crash-safe by construction, with no log to replay and no
// compaction thread. RocksDB (librocksdb-dev) would write faster but reads
// go through a memtable, block cache and bloom filters with locks and
// reference counts, and it brings background compaction threads that
// compete with the shards for the two cores; the list is read per RCPT and
// written per hard bounce, so the read path decides.
//
// Writes never run on a shard: submit() queues them for the store's own
// writer thread, which commits whatever has queued in one transaction (one
// fsync pair per batch, however many entries), so a burst of hard bounces
// or a million-line import costs the shards nothing but a queue push.
//
// A Bloom filter (suppression_filter.h) answers most lookups — those of
// addresses that are not on the list — without touching the tree. It is
// built from the store by the writer thread when the store opens (lookups
// go to the tree until it is ready), and it is only changed while LMDB's
// write lock is held (the writer thread's commits, write(), a rebuild when
// the list outgrows it), with a key's bits set before the commit that adds
// the key: so it never says "no" for a committed entry.
//
// Two tables in one environment: "addresses" (key: address_key, then
// "\0" tenant) and "domains" (key: the domain, then "\0" tenant); see
// suppression_entry.h for why keys look like that.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/suppression/suppression_entry.h"
#include "engine/suppression/suppression_filter.h"

typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;
typedef struct MDB_cursor MDB_cursor;
typedef unsigned int MDB_dbi;

namespace ringmta {

struct SuppressionChange {
  enum Op : uint8_t {
    kPut,          // add, or replace the entry with the same key
    kPutIfAbsent,  // add unless the key has an entry (an automatic entry never replaces one)
    kRemove,
  };
  Op op = kPut;
  SuppressionEntry entry;
};

// ScanFilter: what `list` and `export` want ("" / InfinitePast: anything).
struct ScanFilter {
  std::string reason;  // "bounce", ...
  std::string tenant;
  absl::Time since = absl::InfinitePast();
};

struct SuppressionCounts {
  uint64_t addresses = 0;
  uint64_t domains = 0;
  uint64_t bytes = 0;  // pages in use
};

class SuppressionStore {
 public:
  // open creates the directory and the environment when missing. max_size
  // is the most the file may grow to (LMDB maps it whole; the file grows as
  // pages are written). An error names the path and what to do.
  // filter_min: the Bloom filter's smallest capacity (keys; tests make it
  // small to see it grow).
  static absl::StatusOr<std::unique_ptr<SuppressionStore>> open(const std::string& dir, uint64_t max_size,
                                                                uint64_t filter_min = 1 << 20);
  ~SuppressionStore();  // commits what is queued, then stops the writer
  SuppressionStore(const SuppressionStore&) = delete;
  SuppressionStore& operator=(const SuppressionStore&) = delete;

  // Reader: one thread's read side. Each call sees the newest committed
  // state; not thread-safe (one per shard, one per tool).
  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    // find: the entry that suppresses `address` ("local@domain") for
    // mail of `tenant`: an address entry before a domain entry, one for
    // every tenant before the tenant's own. tenant "": only entries for
    // every tenant count (RCPT time, before the headers say the tenant).
    bool find(std::string_view address, std::string_view tenant, SuppressionEntry* out);
    // get: the entry with exactly target's key (address or domain, tenant).
    bool get(const SuppressionEntry& target, SuppressionEntry* out);
    // scan: up to `limit` entries matching f, in key order (addresses, then
    // domains) after the position `after` ("" from the start); *next is the
    // position to continue from, "" at the end. Positions are opaque text.
    // An error: the store cannot be read, or `after` is not a position.
    absl::Status scan(const ScanFilter& f, std::string_view after, size_t limit, std::vector<SuppressionEntry>* out,
                      std::string* next);
    SuppressionCounts counts();

   private:
    friend class SuppressionStore;
    explicit Reader(SuppressionStore& s);
    bool begin();
    void end();
    // seek: the first entry of table `dbi` whose key is `key` or `key` "\0"
    // tenant, for a tenant that applies.
    bool seek(MDB_cursor* c, std::string_view key, std::string_view tenant, bool domain, SuppressionEntry* out);
    SuppressionStore& _s;
    MDB_txn* _txn = nullptr;
    MDB_cursor* _addresses = nullptr;
    MDB_cursor* _domains = nullptr;
  };
  std::unique_ptr<Reader> reader();

  // submit queues changes for the writer thread; any thread, never waits
  // for the disk. Returns the batch's ticket.
  uint64_t submit(std::vector<SuppressionChange> changes);
  // done: the ticket's changes are committed (true; *error says whether
  // they failed, e.g. the store is full) or still queued (false).
  bool done(uint64_t ticket, absl::Status* error) const;
  // write commits changes on the calling thread, now (tools and tests).
  absl::Status write(const std::vector<SuppressionChange>& changes);
  const std::string& dir() const { return _dir; }
  // filter_ready: the Bloom filter is built (until then lookups walk the tree).
  bool filter_ready() const { return _filter.load(std::memory_order_acquire) != nullptr; }
  uint64_t filter_capacity() const {
    const SuppressionFilter* f = _filter.load(std::memory_order_acquire);
    return f != nullptr ? f->capacity() : 0;
  }

 private:
  SuppressionStore() = default;
  void work();
  absl::Status apply(MDB_txn* txn, const std::vector<SuppressionChange>& changes);
  // build_filter: a filter of every key in txn (a write transaction, so no
  // other writer runs meanwhile), for at least `capacity` keys, made the
  // one in force. grow_filter rebuilds it bigger once the list outgrows it.
  bool build_filter(MDB_txn* txn, uint64_t capacity);
  // commit_one: one ticket's changes in a transaction of their own (after
  // a batch failed, so that one bad change fails only its own ticket).
  absl::Status commit_one(const std::vector<SuppressionChange>& changes);
  void grow_filter(MDB_txn* txn);

  std::string _dir;
  uint64_t _max_size = 0;
  uint64_t _filter_min = 0;
  int _lock_fd = -1;  // flock'd: one daemon per store, so the filter sees every write
  MDB_env* _env = nullptr;
  MDB_dbi _addresses = 0;
  MDB_dbi _domains = 0;

  // The writer thread's queue: (ticket, changes), oldest first.
  mutable std::mutex _mu;
  std::condition_variable _wake;
  std::deque<std::pair<uint64_t, std::vector<SuppressionChange>>> _queue;
  uint64_t _next_ticket = 1;
  bool _stop = false;
  std::atomic<uint64_t> _committed{0};
  // The filter in force (null until built). Older ones stay allocated until
  // the store closes, since a reader may still be in one: each rebuild
  // doubles the capacity, so they add at most as much again.
  std::atomic<const SuppressionFilter*> _filter{nullptr};
  std::vector<std::unique_ptr<SuppressionFilter>> _filters;
  // Tickets whose commit failed, with why (newest kept; bounded), and the
  // newest ticket whose failure was forgotten to keep it bounded: done()
  // cannot say such an old ticket succeeded.
  std::deque<std::pair<uint64_t, std::string>> _failed;
  uint64_t _forgotten_through = 0;
  std::atomic<uint64_t> _read_errors{0};  // failed Reader::begin()s
  std::thread _writer;
};

}  // namespace ringmta

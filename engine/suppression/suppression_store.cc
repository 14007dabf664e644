// engine/suppression/suppression_store.cc — the LMDB environment, its
// writer thread and its Bloom filter (suppression_store.h); the readers
// are suppression_reader.cc.
#include "engine/suppression/suppression_store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "engine/suppression/lmdb_support.h"

namespace ringmta {
namespace {

absl::Status lmdb_error(std::string_view what, const std::string& dir, int rc) {
  std::string fix;
  if (rc == MDB_MAP_FULL) {
    fix = ": the store reached suppression.max_size; raise it and restart";
  } else if (rc == EACCES) {
    fix = ": the daemon's user cannot write there (check the owner, or set suppression.dir)";
  } else if (rc == MDB_VERSION_MISMATCH || rc == MDB_INVALID) {
    fix = ": this is not an LMDB suppression store (move it away to start an empty one)";
  }
  return absl::InternalError(absl::StrCat("suppression store ", dir, ": ", av(what), ": ", mdb_strerror(rc), fix));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SuppressionStore>> SuppressionStore::open(const std::string& dir, uint64_t max_size,
                                                                       uint64_t filter_min) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("suppression store ", dir, ": cannot create the directory: ",
                                            std::strerror(errno), " (set suppression.dir to a writable place)"));
  }
  std::unique_ptr<SuppressionStore> s(new SuppressionStore());
  s->_dir = dir;
  s->_max_size = max_size;
  s->_filter_min = filter_min;
  // One process per store: the Bloom filter is this process's, and a write
  // it does not see would make it answer "not suppressed" wrongly.
  const std::string lock = dir + "/ringmta.lock";
  s->_lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->_lock_fd < 0 || ::flock(s->_lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("suppression store ", dir, ": ", s->_lock_fd < 0 ? "cannot open " : "already in use by another process (",
                     s->_lock_fd < 0 ? lock + ": " + std::strerror(errno) : "another ringmta on this spool?)",
                     "; each instance needs a suppression.dir of its own"));
  }
  int rc = mdb_env_create(&s->_env);
  if (rc != 0) return lmdb_error("cannot create the environment", dir, rc);
  mdb_env_set_maxdbs(s->_env, 2);
  // Readers: one per shard, the tools', tests'; dead processes' slots are
  // cleared below.
  mdb_env_set_maxreaders(s->_env, 512);
  rc = mdb_env_set_mapsize(s->_env, max_size);
  if (rc != 0) return lmdb_error("cannot set the map size", dir, rc);
  // MDB_NOTLS: a read transaction belongs to its Reader, not to the thread
  // (the admin API and a shard's RCPT path each have their own).
  rc = mdb_env_open(s->_env, dir.c_str(), MDB_NOTLS, 0600);
  if (rc != 0) {
    mdb_env_close(s->_env);
    s->_env = nullptr;
    return lmdb_error("cannot open", dir, rc);
  }
  int dead = 0;
  mdb_reader_check(s->_env, &dead);  // slots a killed process left behind
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(s->_env, nullptr, 0, &txn);
  if (rc != 0) return lmdb_error("cannot begin a transaction", dir, rc);
  if ((rc = mdb_dbi_open(txn, "addresses", MDB_CREATE, &s->_addresses)) != 0 ||
      (rc = mdb_dbi_open(txn, "domains", MDB_CREATE, &s->_domains)) != 0) {
    mdb_txn_abort(txn);
    return lmdb_error("cannot open its tables", dir, rc);
  }
  if ((rc = mdb_txn_commit(txn)) != 0) {  // frees txn, whatever it returns
    return lmdb_error("cannot create its tables", dir, rc);
  }
  s->_writer = std::thread([p = s.get()] { p->work(); });
  return s;
}

SuppressionStore::~SuppressionStore() {
  if (_writer.joinable()) {
    {
      std::lock_guard<std::mutex> lock(_mu);
      _stop = true;
    }
    _wake.notify_one();
    _writer.join();
  }
  if (_env != nullptr) {
    mdb_env_close(_env);
  }
  if (_lock_fd >= 0) {
    ::close(_lock_fd);
  }
}

// ---- writes ----

absl::Status SuppressionStore::apply(MDB_txn* txn, const std::vector<SuppressionChange>& changes) {
  for (const SuppressionChange& c : changes) {
    const std::string key = entry_key(c.entry);
    if (key.size() > kMaxSuppressionKey) {
      return absl::InvalidArgumentError(absl::StrCat("suppression store: ", c.entry.address(), " with tenant '",
                                                     c.entry.tenant, "' is longer than ", kMaxSuppressionKey,
                                                     " octets together"));
    }
    MDB_val k = lmdb_val(key);
    const MDB_dbi dbi = c.entry.domain_only ? _domains : _addresses;
    int rc = 0;
    if (c.op == SuppressionChange::kRemove) {
      rc = mdb_del(txn, dbi, &k, nullptr);
      if (rc == MDB_NOTFOUND) rc = 0;
    } else {
      if (_filters.empty() == false) {
        // Before the commit that makes the key visible (the header says why).
        _filters.back()->add(std::string_view(key).substr(0, key.find('\0')));
      }
      const std::string value = encode_value(c.entry);
      MDB_val v = lmdb_val(value);
      rc = mdb_put(txn, dbi, &k, &v, c.op == SuppressionChange::kPutIfAbsent ? MDB_NOOVERWRITE : 0);
      if (rc == MDB_KEYEXIST) rc = 0;
    }
    if (rc != 0) {
      return lmdb_error(absl::StrCat("cannot write ", c.entry.address()), _dir, rc);
    }
  }
  return absl::OkStatus();
}

absl::Status SuppressionStore::write(const std::vector<SuppressionChange>& changes) {
  return commit_one(changes);  // durable when it returns: data fsync, then meta
}

uint64_t SuppressionStore::submit(std::vector<SuppressionChange> changes) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> lock(_mu);
    ticket = _next_ticket++;
    _queue.emplace_back(ticket, std::move(changes));
  }
  _wake.notify_one();
  return ticket;
}

bool SuppressionStore::done(uint64_t ticket, absl::Status* error) const {
  if (_committed.load(std::memory_order_acquire) < ticket) {
    return false;
  }
  std::lock_guard<std::mutex> lock(_mu);
  *error = ticket <= _forgotten_through
               ? absl::InternalError("the suppression store failed too many writes to tell about this one: see the log")
               : absl::OkStatus();
  for (const auto& [t, why] : _failed) {
    if (t == ticket) *error = absl::InternalError(why);
  }
  return true;
}

absl::Status SuppressionStore::commit_one(const std::vector<SuppressionChange>& changes) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(_env, nullptr, 0, &txn);
  if (rc != 0) return lmdb_error("cannot begin a write", _dir, rc);
  absl::Status st = apply(txn, changes);
  if (!st.ok()) {
    mdb_txn_abort(txn);
    return st;
  }
  grow_filter(txn);
  rc = mdb_txn_commit(txn);
  return rc == 0 ? absl::OkStatus() : lmdb_error("cannot commit", _dir, rc);
}

bool SuppressionStore::build_filter(MDB_txn* txn, uint64_t capacity) {
  auto f = std::make_unique<SuppressionFilter>(capacity);
  for (MDB_dbi dbi : {_addresses, _domains}) {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc == 0) {
      MDB_val k, v;
      for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        std::string_view key = lmdb_view(k);
        f->add(key.substr(0, key.find('\0')));  // a tenant's entry: its address's key
      }
      mdb_cursor_close(c);
    }
    if (rc != MDB_NOTFOUND) {
      // A filter missing keys would answer "not suppressed" for entries
      // that are there: keep the one in force (or none: lookups walk the tree).
      log_error("suppression store %s: cannot read it to build its filter: %s", _dir, mdb_strerror(rc));
      return false;
    }
  }
  _filter.store(f.get(), std::memory_order_release);
  _filters.push_back(std::move(f));
  return true;
}

void SuppressionStore::grow_filter(MDB_txn* txn) {
  if (_filters.empty()) return;
  MDB_stat a, d;
  if (mdb_stat(txn, _addresses, &a) != 0 || mdb_stat(txn, _domains, &d) != 0) return;
  const uint64_t n = a.ms_entries + d.ms_entries;
  if (n > _filters.back()->capacity()) {
    build_filter(txn, 2 * n);
  }
}

void SuppressionStore::work() {
  // The filter first, in a write transaction (so that nothing commits
  // while it is read), sized for twice what is there.
  {
    MDB_txn* txn = nullptr;
    if (mdb_txn_begin(_env, nullptr, 0, &txn) == 0) {
      MDB_stat a, d;
      uint64_t n = 0;
      if (mdb_stat(txn, _addresses, &a) == 0 && mdb_stat(txn, _domains, &d) == 0) n = a.ms_entries + d.ms_entries;
      build_filter(txn, std::max<uint64_t>(_filter_min, 2 * n));
      mdb_txn_abort(txn);
    }
  }
  // At most this many changes per commit: a million-line import becomes a
  // few dozen transactions, each short enough not to hold the pages of an
  // old snapshot for long.
  constexpr size_t kBatchChanges = 50000;
  std::unique_lock<std::mutex> lock(_mu);
  while (true) {
    _wake.wait(lock, [this] { return _stop || !_queue.empty(); });
    if (_queue.empty()) {
      return;  // stopping, and everything queued is committed
    }
    std::vector<std::pair<uint64_t, std::vector<SuppressionChange>>> batch;
    size_t n = 0;
    while (!_queue.empty() && (batch.empty() || n + _queue.front().second.size() <= kBatchChanges)) {
      n += _queue.front().second.size();
      batch.push_back(std::move(_queue.front()));
      _queue.pop_front();
    }
    lock.unlock();
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(_env, nullptr, 0, &txn);
    absl::Status st = rc == 0 ? absl::OkStatus() : lmdb_error("cannot begin a write", _dir, rc);
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      st = apply(txn, batch[i].second);
    }
    if (st.ok()) {
      grow_filter(txn);
      rc = mdb_txn_commit(txn);
      if (rc != 0) st = lmdb_error("cannot commit", _dir, rc);
    } else if (txn != nullptr) {
      mdb_txn_abort(txn);
    }
    // A batch that failed is tried again ticket by ticket, so that one bad
    // change (or a store that filled up half-way) fails only its own.
    std::vector<std::pair<uint64_t, std::string>> failed;
    if (!st.ok()) {
      for (const auto& [ticket, changes] : batch) {
        if (absl::Status one = batch.size() == 1 ? st : commit_one(changes); !one.ok()) {
          log_error("%s", sv(one.message()));
          failed.emplace_back(ticket, std::string(one.message()));
        }
      }
    }
    lock.lock();
    for (auto& f : failed) {
      _failed.push_back(std::move(f));
    }
    while (_failed.size() > 1024) {
      _forgotten_through = std::max(_forgotten_through, _failed.front().first);
      _failed.pop_front();
    }
    _committed.store(batch.back().first, std::memory_order_release);
  }
}

}  // namespace ringmta

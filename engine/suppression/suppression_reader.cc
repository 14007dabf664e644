// engine/suppression/suppression_reader.cc — the suppression store's read
// side (suppression_store.h): a shard's lookups, exact gets, scans and
// counts, each in a read transaction renewed per call.
#include <lmdb.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"
#include "engine/runtime/log.h"
#include "engine/suppression/lmdb_support.h"
#include "engine/suppression/suppression_store.h"

namespace ringmta {
namespace {

// Positions in a scan: the table ('a' addresses, 'd' domains) and the key,
// hex so that they travel in a URL.
std::string position(char table, std::string_view key) {
  return absl::StrCat(std::string(1, table), absl::BytesToHexString(av(key)));
}

// A scan examines at most this many entries per call, whatever its filter
// matches, so that one API request on a 10M-entry list stays short.
constexpr size_t kScanExamineMax = 200000;

}  // namespace

std::unique_ptr<SuppressionStore::Reader> SuppressionStore::reader() {
  return std::unique_ptr<Reader>(new Reader(*this));
}

SuppressionStore::Reader::Reader(SuppressionStore& s) : _s(s) {}

SuppressionStore::Reader::~Reader() {
  if (_addresses != nullptr) mdb_cursor_close(_addresses);
  if (_domains != nullptr) mdb_cursor_close(_domains);
  if (_txn != nullptr) mdb_txn_abort(_txn);
}

// begin: a read transaction on the newest snapshot. The first one takes a
// reader slot; later ones renew it (no allocation, no lock).
bool SuppressionStore::Reader::begin() {
  int rc = 0;
  if (_txn == nullptr) {
    rc = mdb_txn_begin(_s._env, nullptr, MDB_RDONLY, &_txn);
    if (rc == 0) rc = mdb_cursor_open(_txn, _s._addresses, &_addresses);
    if (rc == 0) rc = mdb_cursor_open(_txn, _s._domains, &_domains);
  } else {
    rc = mdb_txn_renew(_txn);
    if (rc == 0) rc = mdb_cursor_renew(_txn, _addresses);
    if (rc == 0) rc = mdb_cursor_renew(_txn, _domains);
  }
  if (rc == 0) {
    return true;
  }
  // Start again from nothing next time (a half-renewed transaction would
  // fail every later renew, and pin an old snapshot).
  log_error("suppression store %s: cannot read it: %s", _s._dir, mdb_strerror(rc));
  if (_addresses != nullptr) mdb_cursor_close(_addresses);
  if (_domains != nullptr) mdb_cursor_close(_domains);
  if (_txn != nullptr) mdb_txn_abort(_txn);
  _addresses = _domains = nullptr;
  _txn = nullptr;
  ++_s._read_errors;
  return false;
}

// end releases the snapshot (so the writer may reuse its pages) and keeps
// the slot.
void SuppressionStore::Reader::end() { mdb_txn_reset(_txn); }

bool SuppressionStore::Reader::seek(MDB_cursor* c, std::string_view key, std::string_view tenant, bool domain,
                                    SuppressionEntry* out) {
  MDB_val k = lmdb_val(key);
  MDB_val v;
  // Keys are KEY, then KEY "\0" T for each tenant T: "\0" sorts first, so
  // the entry for every tenant comes first and the tenants' follow it.
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    std::string_view found = lmdb_view(k);
    if (found.size() < key.size() || found.substr(0, key.size()) != key) return false;
    if (found.size() > key.size() && found[key.size()] != '\0') return false;
    if (found.size() == key.size() || (!tenant.empty() && found.substr(key.size() + 1) == tenant)) {
      return out == nullptr || decode_entry(found, lmdb_view(v), domain, out);
    }
  }
  return false;
}

bool SuppressionStore::Reader::find(std::string_view address, std::string_view tenant, SuppressionEntry* out) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) {
    return false;
  }
  // The RCPT path lower-cased the domain already; the local part is
  // folded here, into a buffer that stays (no allocation per lookup).
  static thread_local std::string key;
  key.assign(address);
  for (size_t i = 0; i < at; ++i) {
    key[i] = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(key[i])));
  }
  for (size_t i = at + 1; i < key.size(); ++i) {
    key[i] = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(key[i])));
  }
  const SuppressionFilter* f = _s._filter.load(std::memory_order_acquire);
  if (f != nullptr && !f->may_contain(key) && !f->may_contain(std::string_view(key).substr(at + 1))) {
    return false;
  }
  if (!begin()) {
    return false;
  }
  bool hit = seek(_addresses, key, tenant, false, out) ||
             seek(_domains, std::string_view(key).substr(at + 1), tenant, true, out);
  end();
  return hit;
}

bool SuppressionStore::Reader::get(const SuppressionEntry& target, SuppressionEntry* out) {
  if (!begin()) return false;
  const std::string key = entry_key(target);
  MDB_val k = lmdb_val(key);
  MDB_val v;
  const MDB_dbi dbi = target.domain_only ? _s._domains : _s._addresses;
  bool hit = mdb_get(_txn, dbi, &k, &v) == 0 && decode_entry(key, lmdb_view(v), target.domain_only, out);
  end();
  return hit;
}

absl::Status SuppressionStore::Reader::scan(const ScanFilter& f, std::string_view after, size_t limit,
                                            std::vector<SuppressionEntry>* out, std::string* next) {
  next->clear();
  char table = 'a';
  std::string from;
  if (!after.empty()) {
    const std::string_view hex = after.substr(1);
    if ((after[0] != 'a' && after[0] != 'd') || hex.size() % 2 != 0 || hex.size() > 2 * kMaxSuppressionKey ||
        hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
      return absl::InvalidArgumentError("after: not a position a list answer gave (its \"next\")");
    }
    table = after[0];
    from = absl::HexStringToBytes(av(hex));
  }
  if (!begin()) {
    return absl::UnavailableError(absl::StrCat("the suppression store ", _s._dir, " cannot be read (see the log)"));
  }
  size_t examined = 0;
  const size_t start = out->size();
  std::string last;  // the position of the last entry looked at
  for (; table != 0; table = table == 'a' ? 'd' : 0, from.clear()) {
    MDB_cursor* c = table == 'a' ? _addresses : _domains;
    MDB_val k = lmdb_val(from);
    MDB_val v;
    int rc = from.empty() ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && !from.empty() && lmdb_view(k) == from) {
      rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);  // `after` itself was looked at last time
    }
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      if (out->size() - start >= limit || examined++ >= kScanExamineMax) {
        *next = last.empty() ? std::string(after) : last;  // more may follow
        end();
        return absl::OkStatus();
      }
      last = position(table, lmdb_view(k));
      SuppressionEntry e;
      if (!decode_entry(lmdb_view(k), lmdb_view(v), table == 'd', &e)) continue;
      if ((!f.reason.empty() && suppression_reason_name(e.reason) != f.reason) ||
          (!f.tenant.empty() && e.tenant != f.tenant) || e.time < f.since) {
        continue;
      }
      out->push_back(std::move(e));
    }
  }
  end();
  return absl::OkStatus();
}

SuppressionCounts SuppressionStore::Reader::counts() {
  SuppressionCounts c;
  if (!begin()) return c;
  MDB_stat st;
  if (mdb_stat(_txn, _s._addresses, &st) == 0) {
    c.addresses = st.ms_entries;
    c.bytes += (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
  }
  if (mdb_stat(_txn, _s._domains, &st) == 0) {
    c.domains = st.ms_entries;
    c.bytes += (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
  }
  end();
  return c;
}

}  // namespace ringmta

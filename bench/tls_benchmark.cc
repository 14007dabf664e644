// bench/tls_benchmark.cc — what TLS costs ringmta's CPU, per cipher and per
// handshake, through engine/tls/tls_session.h exactly as a connection uses it:
// a client and a server TlsSession joined by in-memory buffers on this one
// thread, so the figures are CPU cost with no network and no scheduler.
//
//   BM_TlsEncrypt/<cipher>/<record bytes>   write(): plaintext -> records
//   BM_TlsDecrypt/<cipher>/<record bytes>   feed() + read(): records -> plaintext
//   BM_TlsHandshake/<certificate>           a full TLS 1.3 handshake, both ends
//
// bytes_per_second is plaintext; items_per_second is records (or
// handshakes). The certificates are made at start with the openssl tool in
// a temporary directory (no key is ever committed), as tests/engine/tls/tls_test.cc
// does; without openssl every benchmark here reports an error and skips.
//
// This Debian wolfSSL has no AES-NI, which is why ringmta prefers
// ChaCha20-Poly1305 (engine/tls/tls_context.h); these numbers are the evidence.
#include <time.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/tls/tls_context.h"
#include "engine/tls/tls_session.h"

namespace ringmta {
namespace {

// Each timed iteration moves this much plaintext, in records of the size
// under test, so that small records are measured in bulk too.
constexpr size_t kBatch = 256 * 1024;

// Certs: a temporary directory with ec.pem/ec.key (P-256) and
// rsa.pem/rsa.key (2048), made once, removed at exit.
struct Certs {
  std::string dir;
  std::string error;  // why they could not be made; "" when ok
};

std::string g_cert_dir;  // for the atexit handler

void remove_cert_dir() {
  if (!g_cert_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(g_cert_dir, ec);
  }
}

Certs make_certs() {
  Certs c;
  char tmpl[] = "/tmp/ringmta-tlsbench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    c.error = "mkdtemp /tmp/ringmta-tlsbench-XXXXXX failed";
    return c;
  }
  c.dir = tmpl;
  g_cert_dir = c.dir;
  std::atexit(remove_cert_dir);
  const std::string req = "openssl req -x509 -nodes -days 2 -subj /CN=mx.bench.test ";
  const std::string cmds[] = {
      req + "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout " + c.dir + "/ec.key -out " +
          c.dir + "/ec.pem",
      req + "-newkey rsa:2048 -keyout " + c.dir + "/rsa.key -out " + c.dir + "/rsa.pem",
  };
  for (const std::string& cmd : cmds) {
    if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) {
      c.error = "cannot make a test certificate with the openssl tool (tools/setup.sh installs it): " + cmd;
      return c;
    }
  }
  return c;
}

const Certs& certs() {
  static const Certs c = make_certs();
  return c;
}

// Pair is a client and a server session with what they need.
struct Pair {
  std::unique_ptr<TlsContext> server_ctx;
  std::unique_ptr<TlsContext> client_ctx;
  std::unique_ptr<TlsSession> server;
  std::unique_ptr<TlsSession> client;
  std::string wire;   // ciphertext in flight, reused
  std::string plain;  // what the receiving end decrypted
};

// deliver moves from's ciphertext into to and lets `to` read it.
absl::Status deliver(TlsSession& from, TlsSession& to, std::string* wire, std::string* plain) {
  wire->clear();
  wire->swap(from.ciphertext_out());
  if (wire->empty()) {
    return absl::OkStatus();
  }
  if (absl::Status s = to.feed(*wire); !s.ok()) {
    return s;
  }
  return to.read(plain);
}

// handshake runs a full handshake between fresh sessions of p's contexts;
// *server_s gets the thread CPU seconds spent in the server's half.
absl::Status handshake(Pair& p, double* server_s = nullptr) {
  p.server = std::make_unique<TlsSession>(*p.server_ctx, "");
  p.client = std::make_unique<TlsSession>(*p.client_ctx, "");
  (void)p.client->read(nullptr);  // the ClientHello
  for (int round = 0; round < 10; ++round) {
    if (p.client->ciphertext_out().empty() && p.server->ciphertext_out().empty()) {
      break;
    }
    timespec t0{};
    timespec t1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    absl::Status s = deliver(*p.client, *p.server, &p.wire, &p.plain);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    if (server_s != nullptr) {
      *server_s += static_cast<double>(t1.tv_sec - t0.tv_sec) + static_cast<double>(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    }
    if (s.ok()) {
      s = deliver(*p.server, *p.client, &p.wire, &p.plain);
    }
    if (!s.ok()) {
      return s;
    }
  }
  if (!p.client->handshake_done() || !p.server->handshake_done()) {
    return absl::InternalError("the handshake did not finish: " + p.client->error() + p.server->error());
  }
  return absl::OkStatus();
}

// make_pair connects a client that offers only `cipher_list` to a server
// with the `kind` certificate ("ec" or "rsa"); "" on success, else why not.
std::string make_pair(Pair* p, const char* cipher_list, const char* kind) {
  const Certs& c = certs();
  if (!c.error.empty()) {
    return c.error;
  }
  TlsOptions so;
  so.cert_file = c.dir + "/" + kind + ".pem";
  so.key_file = c.dir + "/" + kind + ".key";
  so.min_version = TlsVersion::tls13;
  // A whole batch of records is fed at once in BM_TlsDecrypt.
  so.max_pending_in = 4 * kBatch;
  TlsOptions co;
  co.cipher_list = cipher_list;
  co.min_version = TlsVersion::tls13;
  co.max_pending_out = 4 * kBatch;
  auto server = TlsContext::server(so);
  auto client = TlsContext::client(co);
  if (!server.ok() || !client.ok()) {
    return std::string((server.ok() ? client.status() : server.status()).message());
  }
  p->server_ctx = *std::move(server);
  p->client_ctx = *std::move(client);
  if (absl::Status s = handshake(*p); !s.ok()) {
    return std::string(s.message());
  }
  return "";
}

// ready_pair sets up a pair for one cipher, or tells the benchmark why not.
bool ready_pair(benchmark::State& state, Pair* p, const char* cipher_list, const char* iana) {
  if (std::string err = make_pair(p, cipher_list, "ec"); !err.empty()) {
    state.SkipWithError(err.c_str());
    return false;
  }
  if (p->server->cipher() != iana) {
    std::string err = "negotiated " + p->server->cipher() + ", wanted " + iana;
    state.SkipWithError(err.c_str());
    return false;
  }
  state.SetLabel(p->server->version() + " " + iana);
  return true;
}

void BM_TlsEncrypt(benchmark::State& state, const char* cipher_list, const char* iana) {
  Pair p;
  if (!ready_pair(state, &p, cipher_list, iana)) {
    return;
  }
  const std::string record(static_cast<size_t>(state.range(0)), 'x');
  const size_t per_batch = kBatch / record.size();
  for (auto _ : state) {
    for (size_t i = 0; i < per_batch; ++i) {
      if (!p.client->write(record).ok()) {
        state.SkipWithError(p.client->error().c_str());
        return;
      }
    }
    benchmark::DoNotOptimize(p.client->ciphertext_out().data());
    p.client->ciphertext_out().clear();  // "sent"
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_batch * record.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * per_batch));
}

void BM_TlsDecrypt(benchmark::State& state, const char* cipher_list, const char* iana) {
  Pair p;
  if (!ready_pair(state, &p, cipher_list, iana)) {
    return;
  }
  const std::string record(static_cast<size_t>(state.range(0)), 'x');
  const size_t per_batch = kBatch / record.size();
  for (auto _ : state) {
    // Records carry sequence numbers, so each batch is encrypted afresh,
    // outside the timing.
    state.PauseTiming();
    for (size_t i = 0; i < per_batch; ++i) {
      (void)p.client->write(record);
    }
    p.wire.clear();
    p.wire.swap(p.client->ciphertext_out());
    p.plain.clear();
    state.ResumeTiming();
    if (!p.server->feed(p.wire).ok() || !p.server->read(&p.plain).ok()) {
      state.SkipWithError(p.server->error().c_str());
      return;
    }
  }
  if (p.plain.size() != per_batch * record.size()) {
    state.SkipWithError("decrypted less than was sent");
    return;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_batch * record.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * per_batch));
}

// Record sizes: a pipelined batch of replies, a 1 KB message's worth, and
// full 16 KiB records (large messages).
#define RINGMTA_TLS_RECORDS(name, list, iana)                           \
  BENCHMARK_CAPTURE(BM_TlsEncrypt, name, list, iana)->Arg(128)->Arg(1024)->Arg(16384); \
  BENCHMARK_CAPTURE(BM_TlsDecrypt, name, list, iana)->Arg(128)->Arg(1024)->Arg(16384)

RINGMTA_TLS_RECORDS(chacha20_poly1305, "TLS13-CHACHA20-POLY1305-SHA256", "TLS_CHACHA20_POLY1305_SHA256");
RINGMTA_TLS_RECORDS(aes128_gcm, "TLS13-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256");
RINGMTA_TLS_RECORDS(aes256_gcm, "TLS13-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384");

// A full TLS 1.3 handshake (X25519, no resumption: the worst case, what
// `smtpblast --no-reuse --tls` makes the server do per message), both ends
// on this thread. items_per_second is handshakes/s for both ends together;
// server_us is the server's share, the figure for an MTA's inbound side.
void BM_TlsHandshake(benchmark::State& state, const char* kind) {
  Pair p;
  if (std::string err = make_pair(&p, "", kind); !err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  state.SetLabel(p.server->version() + " " + p.server->cipher());
  double server_s = 0;
  for (auto _ : state) {
    if (absl::Status s = handshake(p, &server_s); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["server_us"] = benchmark::Counter(server_s * 1e6, benchmark::Counter::kAvgIterations);
}
BENCHMARK_CAPTURE(BM_TlsHandshake, ecdsa_p256, "ec")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_TlsHandshake, rsa_2048, "rsa")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ringmta

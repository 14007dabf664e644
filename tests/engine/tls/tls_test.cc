// tests/engine/tls/tls_test.cc — TlsContext and TlsSession: in-memory handshakes
// between two sessions, errors, bounds, and real OpenSSL peers over loopback.
// Certificates are made at test time with the openssl tool (no key is ever
// committed).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/tls/tls_context.h"
#include "engine/tls/tls_session.h"
#include "gtest/gtest.h"

namespace ringmta {
namespace {

using Clock = std::chrono::steady_clock;

std::string g_dir;  // temp dir with the test certificates

std::string path(const char* name) { return g_dir + "/" + name; }

class TlsEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ringmta-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    g_dir = tmpl;
    const std::string req =
        "openssl req -x509 -nodes -days 2 -subj /CN=mx.test "
        "-addext subjectAltName=DNS:mx.test ";
    for (const std::string& cmd : {
             req + "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout " + path("ec.key") +
                 " -out " + path("ec.pem"),
             req + "-newkey rsa:2048 -keyout " + path("rsa.key") + " -out " + path("rsa.pem"),
         }) {
      ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
    }
    std::ofstream(path("garbage.pem")) << "this is not a certificate\n";
  }
  void TearDown() override { std::filesystem::remove_all(g_dir); }
};
const auto* const g_env = ::testing::AddGlobalTestEnvironment(new TlsEnv);

TlsOptions server_opts(const char* kind = "ec") {
  TlsOptions o;
  o.cert_file = path((std::string(kind) + ".pem").c_str());
  o.key_file = path((std::string(kind) + ".key").c_str());
  return o;
}

// Peer is one end of an in-memory connection, with what it has decrypted.
struct Peer {
  std::unique_ptr<TlsContext> ctx;
  std::unique_ptr<TlsSession> tls;
  std::string plain;
};

Peer make_peer(absl::StatusOr<std::unique_ptr<TlsContext>> ctx, std::string_view sni = "") {
  Peer p;
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  if (ctx.ok()) {
    p.ctx = *std::move(ctx);
    p.tls = std::make_unique<TlsSession>(*p.ctx, sni);
  }
  return p;
}

// deliver moves from's pending ciphertext into to, frag bytes per feed.
void deliver(Peer& from, Peer& to, size_t frag) {
  std::string wire;
  wire.swap(from.tls->ciphertext_out());
  for (size_t i = 0; i < wire.size() && !to.tls->failed(); i += frag) {
    (void)to.tls->feed(std::string_view(wire).substr(i, frag));
    (void)to.tls->read(&to.plain);
  }
}

// pump shuttles ciphertext both ways until neither side has any to send.
void pump(Peer& c, Peer& s, size_t frag = 1 << 20) {
  (void)c.tls->read(&c.plain);  // the client speaks first: ClientHello
  for (int i = 0; i < 50; ++i) {
    if (c.tls->ciphertext_out().empty() && s.tls->ciphertext_out().empty()) {
      return;
    }
    deliver(c, s, frag);
    deliver(s, c, frag);
  }
  ADD_FAILURE() << "pump did not settle";
}

void expect_exchange(Peer& c, Peer& s, size_t frag) {
  ASSERT_TRUE(c.tls->write("EHLO client.test\r\n").ok());
  deliver(c, s, frag);
  EXPECT_EQ(s.plain, "EHLO client.test\r\n");
  ASSERT_TRUE(s.tls->write("250 mx.test\r\n").ok());
  deliver(s, c, frag);
  EXPECT_EQ(c.plain, "250 mx.test\r\n");
}

struct Case {
  TlsVersion max;
  const char* cert;
  size_t frag;
  const char* version;
  const char* cipher;
};

class TlsPairTest : public ::testing::TestWithParam<Case> {};

TEST_P(TlsPairTest, HandshakeAndDataBothWays) {
  const Case& k = GetParam();
  TlsOptions co;
  co.max_version = k.max;
  Peer s = make_peer(TlsContext::server(server_opts(k.cert)));
  Peer c = make_peer(TlsContext::client(co), "mx.test");
  pump(c, s, k.frag);
  ASSERT_TRUE(c.tls->handshake_done()) << c.tls->error();
  ASSERT_TRUE(s.tls->handshake_done()) << s.tls->error();
  EXPECT_EQ(c.tls->version(), k.version);
  EXPECT_EQ(s.tls->version(), k.version);
  EXPECT_EQ(c.tls->cipher(), k.cipher);
  EXPECT_EQ(s.tls->cipher(), k.cipher);
  expect_exchange(c, s, k.frag);
  EXPECT_TRUE(s.tls->handshake_just_done());
  EXPECT_FALSE(s.tls->handshake_just_done());
}

INSTANTIATE_TEST_SUITE_P(
    All, TlsPairTest,
    ::testing::Values(
        Case{TlsVersion::tls13, "ec", 1 << 20, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        Case{TlsVersion::tls13, "ec", 1, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        Case{TlsVersion::tls13, "rsa", 7, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"},
        Case{TlsVersion::tls12, "ec", 1 << 20, "TLSv1.2",
             "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
        Case{TlsVersion::tls12, "ec", 1, "TLSv1.2",
             "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
        Case{TlsVersion::tls12, "rsa", 1, "TLSv1.2",
             "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}));

TEST(TlsSession, ServerOrderWinsOverClientsAesFirst) {
  TlsOptions co;
  co.cipher_list = "TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256";
  Peer s = make_peer(TlsContext::server(server_opts()));
  Peer c = make_peer(TlsContext::client(co));
  pump(c, s);
  EXPECT_EQ(s.tls->cipher(), "TLS_CHACHA20_POLY1305_SHA256");
}

TEST(TlsSession, AesGcmWhenClientHasNoChaCha) {
  TlsOptions co;
  co.cipher_list = "TLS13-AES128-GCM-SHA256";
  Peer s = make_peer(TlsContext::server(server_opts()));
  Peer c = make_peer(TlsContext::client(co));
  pump(c, s);
  EXPECT_EQ(s.tls->cipher(), "TLS_AES_128_GCM_SHA256");
}

TEST(TlsContext, ErrorsNameTheFileAndTheProblem) {
  TlsOptions o = server_opts();
  o.cert_file = path("missing.pem");
  auto r = TlsContext::server(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing.pem"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos) << r.status();

  o = server_opts();
  o.cert_file = path("garbage.pem");
  r = TlsContext::server(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("garbage.pem"), std::string::npos) << r.status();

  o = server_opts();
  o.key_file = path("rsa.key");  // a valid key, but not the EC certificate's
  r = TlsContext::server(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("rsa.key"), std::string::npos) << r.status();

  EXPECT_FALSE(TlsContext::server(TlsOptions{}).ok());
  o = server_opts();
  o.cipher_list = "NO-SUCH-CIPHER";
  r = TlsContext::server(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("NO-SUCH-CIPHER"), std::string::npos) << r.status();
}

TEST(TlsSession, GarbageCiphertextFailsCleanly) {
  Peer s = make_peer(TlsContext::server(server_opts()));
  ASSERT_TRUE(s.tls->feed("EHLO plaintext.test\r\nMAIL FROM:<a@b>\r\n").ok());
  EXPECT_FALSE(s.tls->read(&s.plain).ok());
  EXPECT_TRUE(s.tls->failed());
  EXPECT_NE(s.tls->error().find("tls handshake"), std::string::npos) << s.tls->error();
  EXPECT_FALSE(s.tls->feed("more").ok());
  EXPECT_FALSE(s.tls->write("x").ok());

  Peer c = make_peer(TlsContext::client(TlsOptions{}));
  ASSERT_TRUE(c.tls->read(nullptr).ok());
  // A server that answers STARTTLS's handshake in plaintext.
  ASSERT_TRUE(c.tls->feed("220 mx.test ESMTP ready\r\n").ok());
  EXPECT_FALSE(c.tls->read(&c.plain).ok());
  EXPECT_TRUE(c.tls->failed());
  EXPECT_NE(c.tls->error().find("record"), std::string::npos) << c.tls->error();
}

TEST(TlsSession, CorruptRecordAfterHandshakeFails) {
  Peer s = make_peer(TlsContext::server(server_opts()));
  Peer c = make_peer(TlsContext::client(TlsOptions{}));
  pump(c, s);
  ASSERT_TRUE(c.tls->write("DATA\r\n").ok());
  c.tls->ciphertext_out().back() ^= 1;
  deliver(c, s, 1 << 20);
  EXPECT_TRUE(s.tls->failed());
  EXPECT_TRUE(s.plain.empty());
  EXPECT_NE(s.tls->error().find("tls read"), std::string::npos) << s.tls->error();
}

TEST(TlsSession, HugeWriteIsCutIntoRecords) {
  Peer s = make_peer(TlsContext::server(server_opts()));
  Peer c = make_peer(TlsContext::client(TlsOptions{}));
  pump(c, s);
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) {
    big[i] = static_cast<char>('a' + i % 26);
  }
  ASSERT_TRUE(c.tls->write(big).ok());
  const std::string& wire = c.tls->ciphertext_out();
  size_t records = 0;
  for (size_t i = 0; i + 5 <= wire.size();) {
    size_t len = (static_cast<uint8_t>(wire[i + 3]) << 8) | static_cast<uint8_t>(wire[i + 4]);
    EXPECT_EQ(wire[i], 23);  // application_data
    EXPECT_LE(len, 16384u + 256u);
    i += 5 + len;
    ++records;
  }
  EXPECT_GE(records, 64u);
  deliver(c, s, 5000);
  EXPECT_EQ(s.plain, big);
}

TEST(TlsSession, BoundsOnBufferedBytes) {
  TlsOptions so = server_opts();
  so.max_pending_in = 1000;
  so.max_pending_out = 50000;
  Peer s = make_peer(TlsContext::server(so));
  Peer c = make_peer(TlsContext::client(TlsOptions{}));
  pump(c, s);
  // Output: refused without failing, accepted again once sent.
  ASSERT_TRUE(s.tls->write(std::string(30000, 'a')).ok());
  absl::Status w = s.tls->write(std::string(30000, 'b'));
  EXPECT_TRUE(absl::IsResourceExhausted(w)) << w;
  EXPECT_FALSE(s.tls->failed());
  s.tls->ciphertext_out().clear();
  EXPECT_TRUE(s.tls->write(std::string(30000, 'b')).ok());
  // Input: a peer that sends faster than the session is read fails it.
  EXPECT_TRUE(s.tls->feed(std::string(600, 'z')).ok());
  EXPECT_FALSE(s.tls->feed(std::string(600, 'z')).ok());
  EXPECT_TRUE(s.tls->failed());
  EXPECT_NE(s.tls->error().find("not yet read"), std::string::npos) << s.tls->error();
}

TEST(TlsSession, ShutdownReachesPeer) {
  Peer s = make_peer(TlsContext::server(server_opts()));
  Peer c = make_peer(TlsContext::client(TlsOptions{}));
  pump(c, s);
  c.tls->shutdown();
  ASSERT_FALSE(c.tls->ciphertext_out().empty());
  deliver(c, s, 1 << 20);
  EXPECT_TRUE(s.tls->peer_closed());
  EXPECT_FALSE(s.tls->failed()) << s.tls->error();
}

TEST(TlsContext, ReloadKeepsRunningSessions) {
  TlsOptions co;
  co.max_version = TlsVersion::tls12;  // so the suite name shows the key type
  auto server = TlsContext::server(server_opts("ec"));
  ASSERT_TRUE(server.ok());
  Peer old_c = make_peer(TlsContext::client(co));
  Peer old_s;
  old_s.tls = std::make_unique<TlsSession>(**server, "");
  ASSERT_TRUE((*server)->reload(server_opts("rsa")).ok());
  EXPECT_FALSE((*server)->reload(server_opts("missing")).ok());
  pump(old_c, old_s);  // the old session still uses the EC certificate
  EXPECT_EQ(old_s.tls->cipher(), "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  Peer new_c = make_peer(TlsContext::client(co));
  Peer new_s;
  new_s.tls = std::make_unique<TlsSession>(**server, "");
  pump(new_c, new_s);
  EXPECT_EQ(new_s.tls->cipher(), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
}

TEST(TlsContext, ClientVerificationChecksChainAndName) {
  TlsOptions co;
  co.verify_peer = true;
  co.ca_file = path("ec.pem");  // self-signed: its own CA
  Peer s1 = make_peer(TlsContext::server(server_opts()));
  Peer good = make_peer(TlsContext::client(co), "mx.test");
  pump(good, s1);
  EXPECT_TRUE(good.tls->handshake_done()) << good.tls->error();

  Peer s2 = make_peer(TlsContext::server(server_opts()));
  Peer wrong_name = make_peer(TlsContext::client(co), "other.test");
  pump(wrong_name, s2);
  EXPECT_TRUE(wrong_name.tls->failed());
  EXPECT_FALSE(wrong_name.tls->error().empty());

  co.ca_file = path("rsa.pem");
  Peer s3 = make_peer(TlsContext::server(server_opts()));
  Peer untrusted = make_peer(TlsContext::client(co), "mx.test");
  pump(untrusted, s3);
  EXPECT_TRUE(untrusted.tls->failed());
  // The server learns why from the client's alert.
  EXPECT_TRUE(s3.tls->failed());
  EXPECT_NE(s3.tls->error().find("alert"), std::string::npos) << s3.tls->error();
}

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Handshake cost in memory, both ends on this thread, in CPU time (wall
// time on this shared machine is noise): a figure for reports, not a bound.
TEST(TlsBench, InMemoryHandshakeCost) {
  for (const char* kind : {"ec", "rsa"}) {
    auto server = TlsContext::server(server_opts(kind));
    auto client = TlsContext::client(TlsOptions{});
    ASSERT_TRUE(server.ok() && client.ok());
    int n = 0;
    double server_secs = 0;  // the part spent in the server session
    double start = thread_cpu_seconds();
    while (thread_cpu_seconds() - start < 0.5) {
      Peer c;
      Peer s;
      c.tls = std::make_unique<TlsSession>(**client, "mx.test");
      s.tls = std::make_unique<TlsSession>(**server, "");
      (void)c.tls->read(nullptr);
      while (!c.tls->ciphertext_out().empty() || !s.tls->ciphertext_out().empty()) {
        double t = thread_cpu_seconds();
        deliver(c, s, 1 << 20);
        server_secs += thread_cpu_seconds() - t;
        deliver(s, c, 1 << 20);
      }
      ASSERT_TRUE(s.tls->handshake_done() && c.tls->handshake_done());
      ++n;
    }
    double secs = thread_cpu_seconds() - start;
    std::printf("TLS 1.3 %s certificate, CPU per handshake: %.0f us both ends, %.0f us server "
                "(%.0f/s per core)\n",
                kind, secs / n * 1e6, server_secs / n * 1e6, n / server_secs);
  }
}

// ---- Real OpenSSL peers over loopback. Only the test does blocking I/O.

// Child is an openssl process; in/out are pipes to its stdin and stdout,
// its stderr goes to log (shown when a test fails).
struct Child {
  pid_t pid = -1;
  int in = -1;
  int out = -1;
  std::string log;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    for (int fd : {in, out}) {
      if (fd >= 0) {
        close(fd);
      }
    }
  }
  std::string stderr_text() const {
    std::ifstream f(log);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
};

void spawn(Child* c, const std::vector<std::string>& args, const char* name) {
  std::vector<char*> argv;  // built before fork: the child only execs
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  c->log = path(name);
  int err = open(c->log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int in[2];
  int out[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  c->pid = fork();
  if (c->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err, 2);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err);
  c->in = in[1];
  c->out = out[0];
}

// read_until reads fd until it holds needle or 10 s pass.
std::string read_until(int fd, std::string_view needle) {
  std::string got;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (got.find(needle) == std::string::npos && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) == 1) {
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) {
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
  }
  return got;
}

void send_out(int fd, TlsSession& tls) {
  std::string wire;
  wire.swap(tls.ciphertext_out());
  for (size_t off = 0; off < wire.size();) {
    ssize_t n = ::send(fd, wire.data() + off, wire.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

// drive moves bytes between fd and tls until done() or the socket ends.
template <typename Done>
void drive(int fd, TlsSession& tls, std::string* plain, Done done) {
  send_out(fd, tls);
  while (!done() && !tls.failed()) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);  // SO_RCVTIMEO bounds it
    if (n <= 0) {
      return;
    }
    (void)tls.feed(std::string_view(buf, static_cast<size_t>(n)));
    (void)tls.read(plain);
    send_out(fd, tls);
  }
}

void set_timeout(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int listen_loopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

class OpenSslPeerTest : public ::testing::TestWithParam<TlsVersion> {
 protected:
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "no openssl tool (tools/setup.sh installs it)";
    }
  }
  bool tls12() const { return GetParam() == TlsVersion::tls12; }
};

TEST_P(OpenSslPeerTest, OurServerEchoesToSClient) {
  auto ctx = TlsContext::server(server_opts());
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  int port = 0;
  int lfd = listen_loopback(&port);
  ASSERT_GE(lfd, 0);
  std::string version;
  std::string cipher;
  std::string error;
  std::thread server([&] {
    pollfd p{lfd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) {
      error = "no connection";
      return;
    }
    int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    set_timeout(fd);
    TlsSession tls(**ctx, "");
    std::string plain;
    // Echo until s_client goes away (the test kills it).
    drive(fd, tls, &plain, [&] {
      if (!plain.empty()) {
        (void)tls.write(plain);
        plain.clear();
        send_out(fd, tls);
      }
      return false;
    });
    version = tls.version();
    cipher = tls.cipher();
    error = tls.error();
    close(fd);
    tls_thread_exit();
  });
  Child c;
  std::vector<std::string> args = {"openssl", "s_client", "-connect",
                                   "127.0.0.1:" + std::to_string(port), "-quiet",
                                   "-servername", "mx.test"};
  if (tls12()) {
    args.push_back("-tls1_2");
  }
  spawn(&c, args, "s_client.log");
  const std::string line = "EHLO openssl.test\n";
  ASSERT_EQ(::write(c.in, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  std::string got = read_until(c.out, line);
  kill(c.pid, SIGKILL);
  server.join();
  close(lfd);
  EXPECT_EQ(got, line) << c.stderr_text();
  EXPECT_EQ(error, "");
  EXPECT_EQ(version, tls12() ? "TLSv1.2" : "TLSv1.3");
  // s_client offers AES-GCM first; our server's order picks ChaCha20.
  EXPECT_EQ(cipher, tls12() ? "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
                            : "TLS_CHACHA20_POLY1305_SHA256");
}

TEST_P(OpenSslPeerTest, OurClientTalksToSServer) {
  TlsOptions co;
  co.max_version = GetParam();
  auto ctx = TlsContext::client(co);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  int port = 0;
  int probe = listen_loopback(&port);  // a free port for s_server
  ASSERT_GE(probe, 0);
  close(probe);
  Child c;
  spawn(&c,
        {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
         path("rsa.pem"), "-key", path("rsa.key"), "-quiet", "-naccept", "1"},
        "s_server.log");
  int fd = -1;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (fd < 0 && Clock::now() < deadline) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      fd = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // s_server starting
    }
  }
  ASSERT_GE(fd, 0) << c.stderr_text();
  set_timeout(fd);
  TlsSession tls(**ctx, "mx.test");
  std::string plain;
  ASSERT_TRUE(tls.read(&plain).ok());
  drive(fd, tls, &plain, [&] { return tls.handshake_done(); });
  ASSERT_TRUE(tls.handshake_done()) << tls.error() << c.stderr_text();
  ASSERT_TRUE(tls.write("MAIL FROM:<ringmta@client.test>\n").ok());
  send_out(fd, tls);
  EXPECT_EQ(read_until(c.out, "\n"), "MAIL FROM:<ringmta@client.test>\n") << c.stderr_text();
  const std::string reply = "250 2.1.0 ok\n";
  ASSERT_EQ(::write(c.in, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
  drive(fd, tls, &plain, [&] { return plain.find('\n') != std::string::npos; });
  EXPECT_EQ(plain, reply) << tls.error();
  EXPECT_EQ(tls.version(), tls12() ? "TLSv1.2" : "TLSv1.3");
  EXPECT_EQ(tls.cipher(), tls12() ? "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
                                  : "TLS_CHACHA20_POLY1305_SHA256");
  close(fd);
}

INSTANTIATE_TEST_SUITE_P(Versions, OpenSslPeerTest,
                         ::testing::Values(TlsVersion::tls13, TlsVersion::tls12),
                         [](const auto& info) {
                           return info.param == TlsVersion::tls13 ? "tls13" : "tls12";
                         });

}  // namespace
}  // namespace ringmta

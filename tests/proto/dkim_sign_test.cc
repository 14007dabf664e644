// tests/proto/dkim_sign_test.cc — DKIM-Signature fields: the RFC 8463
// example's body hashes and Ed25519 key, the tags we write, a signature
// that libcrypto verifies over the header hash input rebuilt here, the
// From: domain, and key errors. Independent verifiers (python3-dkim,
// OpenDKIM) check signed mail end to end in tests/integration/test_dkim.py.
#include "proto/dkim_sign.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace ringmta::proto {
namespace {

// RFC 8463 Appendix A's message (the RFC 6376 example), with CRLF.
constexpr std::string_view kRfcMessage =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

// RFC 8032 7.1 test 1's private key, the key RFC 8463 signs with.
std::string rfc8032_key_pem() {
  std::string seed;
  absl::Base64Unescape("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", &seed);
  // PKCS#8 for Ed25519 (RFC 8410): a fixed 16-octet prefix, then the seed.
  const unsigned char prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                  0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
  std::string der(reinterpret_cast<const char*>(prefix), sizeof prefix);
  der += seed;
  std::string b64 = absl::Base64Escape(der);
  return "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n";
}

std::shared_ptr<const DkimKey> key(DkimAlgorithm a) {
  absl::StatusOr<DkimKey> k = DkimKey::generate(a, 2048);
  EXPECT_TRUE(k.ok()) << k.status();
  return std::make_shared<const DkimKey>(std::move(*k));
}

std::string tag(const std::string& field, const std::string& name) {
  std::string unfolded = absl::StrReplaceAll(field, {{"\r\n\t", ""}});
  std::smatch m;
  std::regex re("[; ]" + name + "=([^;\r]*)");
  return std::regex_search(unfolded, m, re) ? m[1].str() : "<absent>";
}

DkimSigner signer(std::shared_ptr<const DkimKey> k) {
  DkimSigner s;
  s.domain = "football.example.com";
  s.selector = "brisbane";
  s.key = std::move(k);
  return s;
}

std::string sign(const DkimSigner& s, std::string_view prefix, std::string_view content) {
  const DkimSigner* all[] = {&s};
  absl::StatusOr<std::string> h = dkim_sign(all, prefix, content, absl::FromUnixSeconds(1528637909));
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : "";
}

TEST(DkimSignTest, BodyHashesAreRfc8463s) {
  DkimSigner s = signer(key(DkimAlgorithm::kEd25519Sha256));
  EXPECT_EQ(tag(sign(s, "", kRfcMessage), "bh"), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  s.body_canon = Canon::kSimple;
  EXPECT_EQ(tag(sign(s, "", kRfcMessage), "bh"), "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=");
}

TEST(DkimSignTest, EmptyBodyHashes) {
  DkimSigner s = signer(key(DkimAlgorithm::kEd25519Sha256));
  EXPECT_EQ(tag(sign(s, "", "From: a@b.example\r\n\r\n"), "bh"), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  s.body_canon = Canon::kSimple;
  EXPECT_EQ(tag(sign(s, "", "From: a@b.example\r\n"), "bh"), "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
}

TEST(DkimSignTest, Rfc8032KeyGivesRfc8463PublicKey) {
  absl::StatusOr<DkimKey> k = DkimKey::from_pem(rfc8032_key_pem());
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->algorithm(), DkimAlgorithm::kEd25519Sha256);
  EXPECT_EQ(k->public_key_base64(), "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
}

TEST(DkimSignTest, TagsAndOverSignedHeaders) {
  DkimSigner s = signer(key(DkimAlgorithm::kRsaSha256));
  s.expire = absl::Hours(24 * 7);
  std::string f = sign(s, "Received: from x by y; now\r\n", kRfcMessage);
  EXPECT_EQ(f.rfind("DKIM-Signature: v=1;", 0), 0u);
  EXPECT_EQ(tag(f, "a"), "rsa-sha256");
  EXPECT_EQ(tag(f, "c"), "relaxed/relaxed");
  EXPECT_EQ(tag(f, "d"), "football.example.com");
  EXPECT_EQ(tag(f, "s"), "brisbane");
  EXPECT_EQ(tag(f, "t"), "1528637909");
  EXPECT_EQ(tag(f, "x"), std::to_string(1528637909 + 7 * 86400));
  EXPECT_EQ(tag(f, "l"), "<absent>");
  EXPECT_EQ(tag(f, "h"),
            "from:from:to:to:subject:subject:date:date:message-id:message-id:reply-to:cc:mime-version:"
            "content-type:list-unsubscribe:list-unsubscribe-post:feedback-id");
  for (absl::string_view line : absl::StrSplit(f, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << line;
  }
}

TEST(DkimSignTest, FromIsSignedEvenWhenNotConfigured) {
  DkimSigner s = signer(key(DkimAlgorithm::kEd25519Sha256));
  s.headers = {"Subject"};
  EXPECT_EQ(tag(sign(s, "", kRfcMessage), "h"), "from:from:subject:subject");
}

// verify_rsa rebuilds the header hash input as a verifier does (simple
// header canonicalization: the fields as they are, bottom-up per name) and
// checks b= with libcrypto.
bool verify_rsa(const std::string& field, std::string_view signed_fields, const DkimKey& k) {
  const std::string b = tag(field, "b");
  std::string sig;
  absl::Base64Unescape(b, &sig);
  std::string without_b = field.substr(0, field.find("b=", field.find("bh=") + 3) + 2);
  std::string input = std::string(signed_fields) + without_b;
  std::string pub_der;
  absl::Base64Unescape(k.public_key_base64(), &pub_der);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(pub_der.data());
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(pub_der.size()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = pub != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  return ok;
}

TEST(DkimSignTest, RsaSignatureVerifiesOverTheHeaderHashInput) {
  DkimSigner s = signer(key(DkimAlgorithm::kRsaSha256));
  s.header_canon = Canon::kSimple;
  s.headers = {"To"};
  std::string_view msg = "To: one\r\nFrom: a@football.example.com\r\nTo: two\r\n\r\nbody\r\n";
  std::string f = sign(s, "", msg);
  EXPECT_EQ(tag(f, "h"), "from:from:to:to:to");
  // from (the one), from (none), to (bottom: two), to (one), to (none).
  EXPECT_TRUE(verify_rsa(f, "From: a@football.example.com\r\nTo: two\r\nTo: one\r\n", *s.key));
  EXPECT_FALSE(verify_rsa(f, "From: a@football.example.com\r\nTo: one\r\nTo: two\r\n", *s.key));
}

TEST(DkimSignTest, DualSigningWritesOneFieldPerSigner) {
  DkimSigner rsa = signer(key(DkimAlgorithm::kRsaSha256));
  DkimSigner ed = signer(key(DkimAlgorithm::kEd25519Sha256));
  const DkimSigner* all[] = {&rsa, &ed};
  absl::StatusOr<std::string> h = dkim_sign(all, "", kRfcMessage, absl::Now());
  ASSERT_TRUE(h.ok());
  std::vector<HeaderField> f = split_header_fields(*h);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(tag(std::string(f[0].raw), "a"), "rsa-sha256");
  EXPECT_EQ(tag(std::string(f[1].raw), "a"), "ed25519-sha256");
  EXPECT_EQ(tag(std::string(f[1].raw), "b").size(), 88u);  // 64 octets in base64
}

TEST(DkimSignTest, FromDomain) {
  auto d = [](std::string_view fields) { return from_domain(split_header_fields(fields)); };
  EXPECT_EQ(d("From: Joe <joe@Football.Example.COM>\r\n"), "football.example.com");
  EXPECT_EQ(d("From: joe@a.example (Joe <x@b.example>)\r\n"), "a.example");
  EXPECT_EQ(d("From: \"x@evil.example\" <joe@a.example>\r\n"), "a.example");
  EXPECT_EQ(d("From: a@one.example, b@two.example\r\n"), "one.example");
  EXPECT_EQ(d("From:\r\n  Joe\r\n <joe@folded.example>\r\n"), "folded.example");
  EXPECT_EQ(d("Subject: none\r\n"), "");
  EXPECT_EQ(d("From: nobody\r\n"), "");
  EXPECT_EQ(d("To: x@to.example\r\nFrom: y@first.example\r\nFrom: z@second.example\r\n"), "first.example");
}

TEST(DkimSignTest, KeyErrorsSayWhat) {
  absl::StatusOr<DkimKey> k = DkimKey::from_pem("not a key");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("not a PEM private key"), std::string::npos);

  EVP_PKEY* small = EVP_RSA_gen(512);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, small, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  k = DkimKey::from_pem(std::string_view(data, n));
  BIO_free(bio);
  EVP_PKEY_free(small);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("512 bits"), std::string::npos) << k.status();
  EXPECT_FALSE(DkimKey::generate(DkimAlgorithm::kRsaSha256, 8192).ok());
}

TEST(DkimSignTest, GeneratedKeysRoundTripThroughPem) {
  for (DkimAlgorithm a : {DkimAlgorithm::kRsaSha256, DkimAlgorithm::kEd25519Sha256}) {
    std::shared_ptr<const DkimKey> k = key(a);
    absl::StatusOr<DkimKey> back = DkimKey::from_pem(k->private_pem());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->public_key_base64(), k->public_key_base64());
    EXPECT_EQ(back->algorithm(), a);
  }
}

// One key signs on every signing thread at once: each signature must still
// verify (an Ed25519 key once kept hash state of its own while signing).
TEST(DkimSignTest, OneKeySignsOnManyThreadsAtOnce) {
  for (DkimAlgorithm a : {DkimAlgorithm::kEd25519Sha256, DkimAlgorithm::kRsaSha256}) {
    std::shared_ptr<const DkimKey> k = key(a);
    std::string pub_raw;
    absl::Base64Unescape(k->public_key_base64(), &pub_raw);
    EVP_PKEY* pub = nullptr;
    if (a == DkimAlgorithm::kEd25519Sha256) {
      pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(pub_raw.data()), pub_raw.size());
    } else {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(pub_raw.data());
      pub = d2i_PUBKEY(nullptr, &p, static_cast<long>(pub_raw.size()));
    }
    ASSERT_NE(pub, nullptr);
    std::atomic<int> bad{0};
    const int rounds = a == DkimAlgorithm::kEd25519Sha256 ? 300 : 20;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < rounds; ++i) {
          const std::string data = "message " + std::to_string(t) + "/" + std::to_string(i);
          absl::StatusOr<std::string> sig = k->sign(data);
          EVP_MD_CTX* ctx = EVP_MD_CTX_new();
          const std::string signed_data = a == DkimAlgorithm::kEd25519Sha256 ? sha256(data) : data;
          const bool ok =
              sig.ok() &&
              EVP_DigestVerifyInit(ctx, nullptr, a == DkimAlgorithm::kRsaSha256 ? EVP_sha256() : nullptr, nullptr,
                                   pub) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                               reinterpret_cast<const unsigned char*>(signed_data.data()), signed_data.size()) == 1;
          EVP_MD_CTX_free(ctx);
          bad += ok ? 0 : 1;
        }
      });
    }
    for (std::thread& t : threads) {
      t.join();
    }
    EVP_PKEY_free(pub);
    EXPECT_EQ(bad.load(), 0) << algorithm_name(a);
  }
}

TEST(DkimSignTest, Canonicalizations) {
  Canon h, b;
  EXPECT_TRUE(parse_canonicalization("relaxed/simple", &h, &b));
  EXPECT_EQ(h, Canon::kRelaxed);
  EXPECT_EQ(b, Canon::kSimple);
  EXPECT_FALSE(parse_canonicalization("relaxed", &h, &b));
  EXPECT_FALSE(parse_canonicalization("nofws/simple", &h, &b));
}

}  // namespace
}  // namespace ringmta::proto

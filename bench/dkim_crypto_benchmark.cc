// bench/dkim_crypto_benchmark.cc — which library signs DKIM faster on this
// machine: OpenSSL's libcrypto (EVP) or wolfCrypt, for RSA-2048
// (PKCS#1 v1.5 over SHA-256, rsa-sha256) and Ed25519 (ed25519-sha256,
// RFC 8463: the signature is over the SHA-256 of the header hash input).
// The same keys in both, generated once. Compare with `openssl speed
// rsa2048 ed25519` in the same run (bench/dkim_compare.sh prints both).
//
// wolfCrypt's half is in dkim_crypto_wolf.cc: its headers and OpenSSL's
// cannot meet in one file (both define RSA_PKCS1_PADDING and friends).
//
// The answer chose the libraries: proto/dkim_key.h.
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "dkim_crypto_keys.h"

namespace {

// What a DKIM signer signs: the header hash input is a few hundred octets.
const std::string kData(400, 'h');

EVP_PKEY* rsa_key() {
  static EVP_PKEY* k = EVP_RSA_gen(2048);
  return k;
}
EVP_PKEY* ed_key() {
  static EVP_PKEY* k = [] {
    EVP_PKEY* p = nullptr;
    EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    EVP_PKEY_keygen_init(c);
    EVP_PKEY_keygen(c, &p);
    EVP_PKEY_CTX_free(c);
    return p;
  }();
  return k;
}

void BM_OpenSSL_RSA2048_Sign(benchmark::State& state) {
  std::vector<unsigned char> sig(512);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t n = sig.size();
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, rsa_key()) != 1 ||
        EVP_DigestSign(ctx, sig.data(), &n, reinterpret_cast<const unsigned char*>(kData.data()),
                       kData.size()) != 1) {
      state.SkipWithError("EVP_DigestSign failed");
    }
    EVP_MD_CTX_free(ctx);
    benchmark::DoNotOptimize(sig.data());
  }
}
BENCHMARK(BM_OpenSSL_RSA2048_Sign)->Threads(1)->Threads(2);

void BM_OpenSSL_Ed25519_Sign(benchmark::State& state) {
  std::vector<unsigned char> sig(64);
  unsigned char digest[32];
  EVP_Digest(kData.data(), kData.size(), digest, nullptr, EVP_sha256(), nullptr);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t n = sig.size();
    if (EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, ed_key()) != 1 ||
        EVP_DigestSign(ctx, sig.data(), &n, digest, sizeof digest) != 1) {
      state.SkipWithError("EVP_DigestSign failed");
    }
    EVP_MD_CTX_free(ctx);
    benchmark::DoNotOptimize(sig.data());
  }
}
BENCHMARK(BM_OpenSSL_Ed25519_Sign);

// The body hash: SHA-256 over the canonical body, per KiB.
void BM_OpenSSL_SHA256(benchmark::State& state) {
  std::string body(state.range(0), 'b');
  unsigned char d[32];
  for (auto _ : state) {
    EVP_Digest(body.data(), body.size(), d, nullptr, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_OpenSSL_SHA256)->Arg(1024)->Arg(64 << 10);

}  // namespace

namespace dkim_bench {

std::string rsa_private_der() {
  unsigned char* der = nullptr;
  int n = i2d_PrivateKey(rsa_key(), &der);
  std::string out(reinterpret_cast<char*>(der), n > 0 ? n : 0);
  OPENSSL_free(der);
  return out;
}

void ed25519_raw(unsigned char priv[32], unsigned char pub[32]) {
  size_t plen = 32, publen = 32;
  EVP_PKEY_get_raw_private_key(ed_key(), priv, &plen);
  EVP_PKEY_get_raw_public_key(ed_key(), pub, &publen);
}

}  // namespace dkim_bench

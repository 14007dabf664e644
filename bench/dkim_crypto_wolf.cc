// bench/dkim_crypto_wolf.cc — wolfCrypt's half of dkim_crypto_benchmark:
// the same RSA-2048 and Ed25519 keys (made by the OpenSSL half) and the
// same data, signed the way DKIM signs.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/signature.h>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dkim_crypto_keys.h"

namespace {

const std::string kData(400, 'h');

void BM_WolfCrypt_RSA2048_Sign(benchmark::State& state) {
  // The same key, moved over as PKCS#1 DER.
  std::string der = dkim_bench::rsa_private_der();
  RsaKey key;
  WC_RNG rng;
  wc_InitRng(&rng);
  wc_InitRsaKey(&key, nullptr);
  word32 idx = 0;
  if (der.empty() || wc_RsaPrivateKeyDecode(reinterpret_cast<const byte*>(der.data()), &idx, &key,
                                            der.size()) != 0) {
    state.SkipWithError("wc_RsaPrivateKeyDecode failed");
    return;
  }
  wc_RsaSetRNG(&key, &rng);
  std::vector<unsigned char> sig(512);
  for (auto _ : state) {
    // DKIM's rsa-sha256 is PKCS#1 v1.5 over a DigestInfo of the SHA-256
    // (RSA_W_ENC adds the DigestInfo).
    word32 n = sig.size();
    if (wc_SignatureGenerate(WC_HASH_TYPE_SHA256, WC_SIGNATURE_TYPE_RSA_W_ENC,
                             reinterpret_cast<const unsigned char*>(kData.data()), kData.size(),
                             sig.data(), &n, &key, sizeof key, &rng) != 0) {
      state.SkipWithError("wc_SignatureGenerate failed");
    }
    benchmark::DoNotOptimize(sig.data());
  }
  wc_FreeRsaKey(&key);
  wc_FreeRng(&rng);
}
BENCHMARK(BM_WolfCrypt_RSA2048_Sign);

void BM_WolfCrypt_Ed25519_Sign(benchmark::State& state) {
  unsigned char priv[32], pub[32];
  dkim_bench::ed25519_raw(priv, pub);
  ed25519_key key;
  wc_ed25519_init(&key);
  if (wc_ed25519_import_private_key(priv, 32, pub, 32, &key) != 0) {
    state.SkipWithError("wc_ed25519_import_private_key failed");
    return;
  }
  unsigned char digest[32];
  wc_Sha256Hash(reinterpret_cast<const unsigned char*>(kData.data()), kData.size(), digest);
  unsigned char sig[64];
  for (auto _ : state) {
    word32 n = sizeof sig;
    if (wc_ed25519_sign_msg(digest, sizeof digest, sig, &n, &key) != 0) {
      state.SkipWithError("wc_ed25519_sign_msg failed");
    }
    benchmark::DoNotOptimize(sig);
  }
  wc_ed25519_free(&key);
}
BENCHMARK(BM_WolfCrypt_Ed25519_Sign);

// What ringmta pays per signature: a key imported for each call, because
// in Debian's build the key holds a SHA-512 state while signing
// (settings.h turns WOLFSSL_ED25519_PERSISTENT_SHA on with streaming
// verify), so one key cannot sign on two threads at once.
void BM_WolfCrypt_Ed25519_ImportAndSign(benchmark::State& state) {
  unsigned char priv[32], pub[32];
  dkim_bench::ed25519_raw(priv, pub);
  unsigned char digest[32];
  wc_Sha256Hash(reinterpret_cast<const unsigned char*>(kData.data()), kData.size(), digest);
  unsigned char sig[64];
  for (auto _ : state) {
    ed25519_key key;
    wc_ed25519_init(&key);
    word32 n = sizeof sig;
    // trusted = 1: the pair was checked once when the key was read.
    if (wc_ed25519_import_private_key_ex(priv, 32, pub, 32, &key, 1) != 0 ||
        wc_ed25519_sign_msg(digest, sizeof digest, sig, &n, &key) != 0) {
      state.SkipWithError("import or sign failed");
    }
    wc_ed25519_free(&key);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_WolfCrypt_Ed25519_ImportAndSign);

void BM_WolfCrypt_SHA256(benchmark::State& state) {
  std::string body(state.range(0), 'b');
  unsigned char d[32];
  for (auto _ : state) {
    wc_Sha256Hash(reinterpret_cast<const unsigned char*>(body.data()), body.size(), d);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_WolfCrypt_SHA256)->Arg(1024)->Arg(64 << 10);

}  // namespace

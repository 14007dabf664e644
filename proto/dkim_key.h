// proto/dkim_key.h — a DKIM private key: read from PEM, made new (keygen),
// its public half as the p= of a DNS record, and the one operation a
// signer needs. RSA 1024..4096 bits (rsa-sha256, RFC 6376) or Ed25519
// (ed25519-sha256, RFC 8463).
//
//   absl::StatusOr<DkimKey> k = DkimKey::from_pem(pem_text);
//   std::string sig = k->sign(header_hash_input);    // raw signature octets
//   std::string p = k->public_key_base64();          // "v=DKIM1; k=rsa; p=" + p
//
// Which library does what, measured (bench/dkim_crypto_benchmark, README
// "DKIM"): OpenSSL's libcrypto reads keys, makes them and signs RSA (about
// 6x wolfCrypt's RSA-2048 signs per second here: it has assembly for the
// modular exponentiation that Debian's wolfSSL build lacks) and hashes
// (SHA-NI); wolfCrypt signs Ed25519, about twice as fast as libcrypto's.
//
// Thread safety: a key is immutable once made; sign() may run on several
// threads at once (each call has its own context; an Ed25519 sign imports
// the key into a wolfCrypt key of its own, dkim_ed25519.cc says why).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringmta::proto {

enum class DkimAlgorithm { kRsaSha256, kEd25519Sha256 };

// "rsa-sha256" / "ed25519-sha256" (the a= tag), and back.
std::string_view algorithm_name(DkimAlgorithm a);
bool parse_algorithm(std::string_view text, DkimAlgorithm* out);

class DkimKey {
 public:
  static constexpr int kMinRsaBits = 1024;
  static constexpr int kMaxRsaBits = 4096;

  // from_pem reads a PEM private key (PKCS#8 "PRIVATE KEY", or PKCS#1
  // "RSA PRIVATE KEY"); the error says what is wrong with it.
  static absl::StatusOr<DkimKey> from_pem(std::string_view pem);
  // generate makes a new key; bits is for RSA only.
  static absl::StatusOr<DkimKey> generate(DkimAlgorithm a, int bits);

  DkimKey(DkimKey&&) noexcept;
  DkimKey& operator=(DkimKey&&) noexcept;
  ~DkimKey();

  DkimAlgorithm algorithm() const;
  int bits() const;  // 2048 for RSA-2048, 256 for Ed25519
  // private_pem: PKCS#8 PEM, what keygen writes.
  std::string private_pem() const;
  // public_key_base64: the p= value. RSA: the SubjectPublicKeyInfo DER
  // (what opendkim-genkey publishes); Ed25519: the raw 32-octet key
  // (RFC 8463 4.2).
  std::string public_key_base64() const;
  // sign: rsa-sha256 signs SHA-256(data) with RSASSA-PKCS1-v1_5;
  // ed25519-sha256 signs SHA-256(data) with PureEdDSA (RFC 8463 3).
  absl::StatusOr<std::string> sign(std::string_view data) const;

  struct Impl;  // opaque: dkim_key.cc
  explicit DkimKey(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> _impl;
};

// sha256 of data (libcrypto).
std::string sha256(std::string_view data);

}  // namespace ringmta::proto

// proto/dkim_ed25519.h — Ed25519 signing with wolfCrypt, for dkim_key.cc.
// A file of its own because wolfCrypt's headers and OpenSSL's cannot meet
// in one translation unit (both define RSA_PKCS1_PADDING and friends).
// Internal to proto/dkim_key.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ringmta::proto::dkim_internal {

class Ed25519Signer {
 public:
  // create imports the 32-octet private seed and its public key; null
  // when wolfCrypt refuses them.
  static std::unique_ptr<Ed25519Signer> create(const uint8_t priv[32], const uint8_t pub[32]);
  ~Ed25519Signer();
  // sign writes the 64-octet signature of msg; false on failure.
  bool sign(const uint8_t* msg, size_t len, uint8_t sig[64]) const;

 private:
  Ed25519Signer();
  struct Key;
  std::unique_ptr<Key> _key;
};

}  // namespace ringmta::proto::dkim_internal

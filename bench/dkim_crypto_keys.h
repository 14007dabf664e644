// bench/dkim_crypto_keys.h — the keys both halves of dkim_crypto_benchmark
// sign with, made once by the OpenSSL half.
#pragma once

#include <string>
#include <string_view>

namespace dkim_bench {

std::string rsa_private_der();  // RSA-2048, PKCS#1 DER
void ed25519_raw(unsigned char priv[32], unsigned char pub[32]);

}  // namespace dkim_bench

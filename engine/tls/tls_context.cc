// engine/tls/tls_context.cc — building wolfSSL contexts from TlsOptions.
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "engine/tls/tls_context.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringmta {

const char* const kDefaultTlsCiphers =
    "TLS13-CHACHA20-POLY1305-SHA256:"
    "TLS13-AES256-GCM-SHA384:"
    "TLS13-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:"
    "DHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES256-GCM-SHA384:"
    "DHE-RSA-AES128-GCM-SHA256";

std::string tls_error_text(int code) {
  char buf[WOLFSSL_MAX_ERROR_SZ] = {};
  wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buf, sizeof(buf));
  return absl::StrCat(buf, " (", code, ")");
}

void tls_thread_exit() {
#ifdef FP_ECC
  wc_ecc_fp_free();
#endif
  wolfSSL_ERR_clear_error();
}

namespace {

// wolfSSL_Init is process-wide and not reentrant; a function-local static
// makes the first shard to build a context do it exactly once.
void init_wolfssl_once() {
  static const int done = [] {
    wolfSSL_Init();
    return 1;
  }();
  (void)done;
}

int version_code(TlsVersion v) {
  return v == TlsVersion::tls13 ? WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2;
}

// choose_method picks the narrowest wolfSSL method for the version range:
// the SSLv23 methods negotiate the highest common version, and the minimum
// is raised after the context exists.
WOLFSSL_METHOD* choose_method(TlsRole role, const TlsOptions& o) {
  bool server = role == TlsRole::server;
  if (o.max_version == TlsVersion::tls12) {
    return server ? wolfTLSv1_2_server_method() : wolfTLSv1_2_client_method();
  }
  if (o.min_version == TlsVersion::tls13) {
    return server ? wolfTLSv1_3_server_method() : wolfTLSv1_3_client_method();
  }
  return server ? wolfSSLv23_server_method() : wolfSSLv23_client_method();
}

// check_readable gives the OS's reason when a file cannot be opened, which
// is clearer than wolfSSL's "bad file" for the common mistakes.
absl::Status check_readable(const char* field, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    int err = errno;
    return absl::InvalidArgumentError(
        absl::StrCat("tls: ", field, " \"", path, "\": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

// load_problem explains a failed PEM load. wolfSSL reports most of them as
// plain WOLFSSL_FAILURE, and its error queue holds unrelated leftovers then,
// so that case gets our own words.
std::string load_problem(int rc, const char* what) {
  wolfSSL_ERR_clear_error();
  if (rc == WOLFSSL_FAILURE) {
    return absl::StrCat("no usable PEM ", what, " in it (or wrong type, or encrypted)");
  }
  return absl::StrCat("cannot load the PEM ", what, ": ", tls_error_text(rc));
}

absl::Status load_credentials(WOLFSSL_CTX* ctx, const TlsOptions& o) {
  if (absl::Status s = check_readable("cert_file", o.cert_file); !s.ok()) {
    return s;
  }
  if (absl::Status s = check_readable("key_file", o.key_file); !s.ok()) {
    return s;
  }
  int rc = wolfSSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str());
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: cert_file \"", o.cert_file, "\": ", load_problem(rc, "certificate")));
  }
  rc = wolfSSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), WOLFSSL_FILETYPE_PEM);
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: key_file \"", o.key_file, "\": ", load_problem(rc, "private key")));
  }
  // Loading may accept a key of the right type but the wrong pair; without
  // this the mistake would surface only as failed handshakes.
  rc = wolfSSL_CTX_check_private_key(ctx);
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: key_file \"", o.key_file, "\" does not match the certificate in \"",
                     o.cert_file, "\""));
  }
  return absl::OkStatus();
}

absl::Status configure_verification(WOLFSSL_CTX* ctx, TlsRole role, const TlsOptions& o) {
  if (!o.verify_peer) {
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, nullptr);
    return absl::OkStatus();
  }
  if (o.ca_file.empty()) {
    return absl::InvalidArgumentError("tls: verify_peer needs ca_file");
  }
  if (absl::Status s = check_readable("ca_file", o.ca_file); !s.ok()) {
    return s;
  }
  int rc = wolfSSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr);
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls: ca_file \"", o.ca_file, "\": cannot load CA certificates: ", tls_error_text(rc)));
  }
  int mode = WOLFSSL_VERIFY_PEER;
  if (role == TlsRole::server) {
    mode |= WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  wolfSSL_CTX_set_verify(ctx, mode, nullptr);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<WOLFSSL_CTX>> build_ctx(TlsRole role, const TlsOptions& o) {
  init_wolfssl_once();
  if (o.min_version == TlsVersion::tls13 && o.max_version == TlsVersion::tls12) {
    return absl::InvalidArgumentError("tls: min_version is above max_version");
  }
  if (role == TlsRole::server && (o.cert_file.empty() || o.key_file.empty())) {
    return absl::InvalidArgumentError("tls: a server needs cert_file and key_file");
  }
  std::shared_ptr<WOLFSSL_CTX> ctx(wolfSSL_CTX_new(choose_method(role, o)), wolfSSL_CTX_free);
  if (ctx == nullptr) {
    return absl::ResourceExhaustedError("tls: wolfSSL_CTX_new failed (out of memory?)");
  }
  int rc = wolfSSL_CTX_SetMinVersion(ctx.get(), version_code(o.min_version));
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: cannot set the minimum version: ", tls_error_text(rc)));
  }
  std::string list = o.cipher_list.empty() ? std::string(kDefaultTlsCiphers) : o.cipher_list;
  if (wolfSSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: cipher_list \"", list, "\": no cipher this wolfSSL knows"));
  }
  // X25519 first: with this wolfSSL a handshake over it costs ~40% of one
  // over P-256 (ECDSA certificate, both ends; see TlsBench in tls_test).
  // P-256 and P-384 stay for peers that lack it.
  // set_groups also picks the TLS 1.3 key share but refuses a 1.2-only
  // context; there the supported_groups extension alone orders ECDHE.
  int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
  if (o.max_version == TlsVersion::tls13) {
    rc = wolfSSL_CTX_set_groups(ctx.get(), groups, 3);
  } else {
    for (int g : groups) {
      rc = wolfSSL_CTX_UseSupportedCurve(ctx.get(), static_cast<word16>(g));
      if (rc != WOLFSSL_SUCCESS) {
        break;
      }
    }
  }
  if (rc != WOLFSSL_SUCCESS) {
    return absl::InternalError(absl::StrCat("tls: cannot set key exchange groups: ",
                                            tls_error_text(rc)));
  }
  if (role == TlsRole::server) {
    // Our order, not the client's: most clients put AES-GCM first, which
    // costs ~3x the CPU of ChaCha20 on a CPU without AES-NI.
    wolfSSL_CTX_set_options(ctx.get(), WOLFSSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (absl::Status s = load_credentials(ctx.get(), o); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = configure_verification(ctx.get(), role, o); !s.ok()) {
    return s;
  }
  return ctx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::server(const TlsOptions& options) {
  auto ctx = build_ctx(TlsRole::server, options);
  if (!ctx.ok()) {
    return ctx.status();
  }
  return std::unique_ptr<TlsContext>(new TlsContext(TlsRole::server, options, *std::move(ctx)));
}

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::client(const TlsOptions& options) {
  auto ctx = build_ctx(TlsRole::client, options);
  if (!ctx.ok()) {
    return ctx.status();
  }
  return std::unique_ptr<TlsContext>(new TlsContext(TlsRole::client, options, *std::move(ctx)));
}

absl::Status TlsContext::reload(const TlsOptions& options) {
  auto ctx = build_ctx(_role, options);
  if (!ctx.ok()) {
    return ctx.status();
  }
  // Running sessions hold their own reference to the old context.
  _ctx = *std::move(ctx);
  _options = options;
  return absl::OkStatus();
}

}  // namespace ringmta

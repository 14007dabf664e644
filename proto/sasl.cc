// proto/sasl.cc — base64 and the PLAIN/LOGIN response formats.
#include "proto/sasl.h"

#include <cstdint>

#include "proto/address.h"

namespace ringmta::proto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// sextet returns the 6-bit value of a base64 character, or -1.
int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// decode_field decodes one base64 response that must be a single field
// (a LOGIN user name or password): 1..255 octets, no NUL.
SaslStatus decode_field(std::string_view response, std::string* out) {
  if (!base64_decode(response, out)) {
    return SaslStatus::kBadBase64;
  }
  if (out->empty() || out->size() > kMaxSaslField ||
      out->find('\0') != std::string::npos) {
    return SaslStatus::kMalformed;
  }
  return SaslStatus::kOk;
}

}  // namespace

bool base64_decode(std::string_view in, std::string* out) {
  out->clear();
  size_t padding = 0;
  while (!in.empty() && in.back() == '=' && padding < 2) {
    in.remove_suffix(1);
    ++padding;
  }
  // Padded input must fill whole quanta; unpadded input may end after 2 or
  // 3 characters of the last quantum, never after 1 (that is no octet).
  if (padding != 0 && (in.size() + padding) % 4 != 0) {
    return false;
  }
  if (in.size() % 4 == 1) {
    return false;
  }
  out->reserve(in.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int held = 0;
  for (char c : in) {
    int v = sextet(c);
    if (v < 0) {
      return false;  // also catches '=' inside the text and a third '='
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out->push_back(static_cast<char>((bits >> held) & 0xFF));
    }
  }
  // The bits left over must be zero, or two encodings would decode alike
  // (RFC 4648 3.5 lets decoders reject them; we do).
  return (bits & ((1u << held) - 1)) == 0;
}

void base64_encode(std::string_view in, std::string* out) {
  out->reserve(out->size() + (in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(in[i + 2]));
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  const size_t left = in.size() - i;
  if (left == 0) {
    return;
  }
  uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
  if (left == 2) {
    v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
  }
  out->push_back(kAlphabet[(v >> 18) & 63]);
  out->push_back(kAlphabet[(v >> 12) & 63]);
  out->push_back(left == 2 ? kAlphabet[(v >> 6) & 63] : '=');
  out->push_back('=');
}

bool valid_sasl_user(std::string_view user) {
  if (user.empty() || user.size() > kMaxSaslField) {
    return false;
  }
  for (char c : user) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u == 127) {
      return false;
    }
  }
  return valid_utf8(user);
}

SaslStatus decode_plain(std::string_view response, SaslCredentials* out) {
  std::string message;
  if (!base64_decode(response, &message)) {
    return SaslStatus::kBadBase64;
  }
  // message = [authzid] NUL authcid NUL passwd (RFC 4616 2).
  const size_t first = message.find('\0');
  if (first == std::string::npos) {
    return SaslStatus::kMalformed;
  }
  const size_t second = message.find('\0', first + 1);
  if (second == std::string::npos) {
    return SaslStatus::kMalformed;
  }
  std::string_view all(message);
  std::string_view authzid = all.substr(0, first);
  std::string_view authcid = all.substr(first + 1, second - first - 1);
  std::string_view passwd = all.substr(second + 1);
  if (authzid.size() > kMaxSaslField || !valid_sasl_user(authcid) || passwd.empty() ||
      passwd.size() > kMaxSaslField || passwd.find('\0') != std::string_view::npos) {
    return SaslStatus::kMalformed;
  }
  if (!authzid.empty() && authzid != authcid) {
    return SaslStatus::kAuthzMismatch;
  }
  out->user.assign(authcid);
  out->password.assign(passwd);
  return SaslStatus::kOk;
}

SaslStatus decode_login_user(std::string_view response, std::string* out) {
  SaslStatus status = decode_field(response, out);
  if (status == SaslStatus::kOk && !valid_sasl_user(*out)) {
    return SaslStatus::kMalformed;
  }
  return status;
}

SaslStatus decode_login_password(std::string_view response, std::string* out) {
  return decode_field(response, out);
}

}  // namespace ringmta::proto

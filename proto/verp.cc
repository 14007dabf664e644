// proto/verp.cc — VERP senders with an HMAC-SHA256 tag (libcrypto).
#include "proto/verp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstdint>

#include "proto/address.h"

namespace ringmta::proto {
namespace {

// is_atext: RFC 5322 3.2.3 atext (ASCII only: a UTF-8 local part is sent
// with the plain sender).
bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// valid_local: atext and '.', never "..": a dot at either end is allowed,
// for the recipient's local part sits inside the VERP local part (between
// '=' and '='), where the whole stays a dot-atom.
bool valid_local(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (i > 0 && s[i - 1] == '.') {
        return false;
      }
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

// valid_prefix: a dot-atom (RFC 5322 3.2.3), for it starts the local part.
bool valid_prefix(std::string_view s) { return valid_local(s) && s.front() != '.' && s.back() != '.'; }

bool valid_queue_id(std::string_view s) {
  if (s.size() != kVerpQueueIdLength) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - ('a' - 'A'));
    }
  }
  return out;
}

// verp_mac: the 16 base32 characters of HMAC-SHA256(secret,
// lower("QUEUEID=LOCAL=DOMAIN")) cut to 80 bits; "" when libcrypto fails.
std::string verp_mac(std::string_view secret, std::string_view queue_id, std::string_view local,
                     std::string_view domain) {
  if (secret.size() > static_cast<size_t>(INT_MAX)) {
    return {};
  }
  std::string input = ascii_lower(queue_id);
  input.push_back('=');
  input += ascii_lower(local);
  input.push_back('=');
  input += ascii_lower(domain);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), md, &md_len) == nullptr ||
      md_len < 10) {
    return {};
  }
  // RFC 4648 6, lower-cased; 80 bits are two 40-bit groups of 8 characters.
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve(kVerpMacLength);
  for (int group = 0; group < 2; ++group) {
    uint64_t v = 0;
    for (int k = 0; k < 5; ++k) {
      v = (v << 8) | md[group * 5 + k];
    }
    for (int k = 7; k >= 0; --k) {
      out.push_back(kAlphabet[(v >> (5 * k)) & 31]);
    }
  }
  return out;
}

}  // namespace

std::string verp_sender(std::string_view secret, std::string_view prefix, std::string_view bounce_domain,
                        std::string_view queue_id, std::string_view recipient) {
  if (secret.empty() || !valid_prefix(prefix) || !valid_dns_name(bounce_domain) ||
      !valid_queue_id(queue_id)) {
    return {};
  }
  const size_t at = recipient.rfind('@');
  if (at == std::string_view::npos) {
    return {};
  }
  // A quoted local part, or one holding '@', fails valid_local.
  const std::string_view local = recipient.substr(0, at);
  const std::string_view domain = recipient.substr(at + 1);
  if (!valid_local(local) || !valid_dns_name(domain)) {
    return {};
  }
  const std::string id = ascii_upper(queue_id);
  const std::string lower_domain = ascii_lower(domain);
  const std::string mac = verp_mac(secret, id, local, lower_domain);
  if (mac.empty()) {
    return {};
  }
  std::string out;
  out.reserve(prefix.size() + mac.size() + id.size() + recipient.size() + bounce_domain.size() + 5);
  out.append(prefix).append("+").append(mac).append("=").append(id).append("=");
  out.append(local).append("=").append(lower_domain).append("@").append(bounce_domain);
  return out.size() <= kMaxVerpSender ? out : std::string();
}

std::optional<VerpMatch> verp_parse(std::string_view secret, std::string_view prefix,
                                    std::string_view bounce_domain, std::string_view address) {
  if (secret.empty() || prefix.empty()) {
    return std::nullopt;
  }
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>') {
    address = address.substr(1, address.size() - 2);
  }
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || !ascii_iequals(address.substr(at + 1), bounce_domain)) {
    return std::nullopt;
  }
  const std::string_view local = address.substr(0, at);
  if (local.size() <= prefix.size() || !ascii_iequals(local.substr(0, prefix.size()), prefix) ||
      local[prefix.size()] != '+') {
    return std::nullopt;
  }
  const std::string_view token = local.substr(prefix.size() + 1);
  const size_t first = token.find('=');
  const size_t second = first == std::string_view::npos ? first : token.find('=', first + 1);
  const size_t last = token.rfind('=');
  if (second == std::string_view::npos || last <= second + 1) {
    return std::nullopt;  // fewer than four fields, or an empty local part
  }
  const std::string_view mac = token.substr(0, first);
  const std::string_view queue_id = token.substr(first + 1, second - first - 1);
  const std::string_view rcpt_local = token.substr(second + 1, last - second - 1);
  const std::string_view rcpt_domain = token.substr(last + 1);
  if (mac.size() != kVerpMacLength || !valid_queue_id(queue_id) || !valid_local(rcpt_local) ||
      !valid_dns_name(rcpt_domain)) {
    return std::nullopt;
  }
  const std::string expected = verp_mac(secret, queue_id, rcpt_local, rcpt_domain);
  const std::string given = ascii_lower(mac);
  // Constant time: how long a wrong MAC takes to refuse must not tell a
  // forger how many of its leading characters were right.
  if (expected.size() != kVerpMacLength ||
      CRYPTO_memcmp(expected.data(), given.data(), kVerpMacLength) != 0) {
    return std::nullopt;
  }
  VerpMatch m;
  m.queue_id = ascii_upper(queue_id);
  m.recipient.reserve(rcpt_local.size() + 1 + rcpt_domain.size());
  m.recipient.append(rcpt_local).append("@").append(rcpt_domain);
  return m;
}

}  // namespace ringmta::proto

// tests/proto/verp_test.cc — VERP senders: the MAC recomputed here with
// libcrypto, round trips (case changes, '=' and '+' in local parts),
// every tampering refused, what cannot be encoded, and the bounds.
#include "proto/verp.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ringmta::proto {
namespace {

constexpr std::string_view kSecret = "correct horse battery staple";
constexpr std::string_view kPrefix = "bounces";
constexpr std::string_view kDomain = "bounces.example.com";
constexpr std::string_view kQueueId = "0123456789ABCDEF";

std::string sender(std::string_view recipient, std::string_view queue_id = kQueueId) {
  return verp_sender(kSecret, kPrefix, kDomain, queue_id, recipient);
}

std::optional<VerpMatch> parse(std::string_view address) {
  return verp_parse(kSecret, kPrefix, kDomain, address);
}

std::string lower(std::string s) {
  absl::AsciiStrToLower(&s);
  return s;
}

std::string upper(std::string s) {
  absl::AsciiStrToUpper(&s);
  return s;
}

// base32 of the first 80 bits of HMAC-SHA256, written out the long way.
std::string expected_mac(std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  std::string bits;
  for (int i = 0; i < 10; ++i) {
    for (int b = 7; b >= 0; --b) {
      bits.push_back((md[i] >> b) & 1 ? '1' : '0');
    }
  }
  std::string out;
  for (size_t i = 0; i < 80; i += 5) {
    out.push_back("abcdefghijklmnopqrstuvwxyz234567"[std::stoi(bits.substr(i, 5), nullptr, 2)]);
  }
  return out;
}

TEST(VerpTest, SenderForm) {
  const std::string s = sender("user@dest.example");
  EXPECT_EQ(s, absl::StrCat("bounces+", expected_mac("0123456789abcdef=user=dest.example"),
                            "=0123456789ABCDEF=user=dest.example@bounces.example.com"));
  // The queue id is written upper case, the domain lower case; the MAC is
  // over the lower-cased text, so it is the same for any case given.
  EXPECT_EQ(sender("user@DEST.Example", "0123456789abcdef"), s);
  EXPECT_NE(sender("User@dest.example"), s);                              // the local part keeps its case...
  EXPECT_EQ(sender("User@dest.example").substr(0, 24), s.substr(0, 24));  // ...not in the MAC
}

TEST(VerpTest, RoundTrip) {
  for (std::string_view rcpt :
       {"user@dest.example", "first.last@sub.dest.example", "a@b.c", "user+tag@dest.example",
        "a=b@dest.example", "=@dest.example", "x==y+=+z@dest.example", "o'brien@dest.example",
        "!#$%&'*+-/=?^_`{|}~@dest.example", ".lead@dest.example", "trail.@dest.example",
        "under_score@my_host.example"}) {
    const std::string s = sender(rcpt);
    ASSERT_FALSE(s.empty()) << rcpt;
    std::optional<VerpMatch> m = parse(s);
    ASSERT_TRUE(m.has_value()) << s;
    EXPECT_EQ(m->queue_id, kQueueId);
    EXPECT_EQ(m->recipient, rcpt);
    EXPECT_EQ(parse(absl::StrCat("<", s, ">"))->recipient, rcpt);  // as a path
  }
}

TEST(VerpTest, CaseChangesSurvive) {
  const std::string s = sender("Mixed.Case@Dest.Example", "0123456789abcdef");
  for (const std::string& changed : {lower(s), upper(s), s}) {
    std::optional<VerpMatch> m = parse(changed);
    ASSERT_TRUE(m.has_value()) << changed;
    EXPECT_EQ(m->queue_id, "0123456789ABCDEF");
    EXPECT_EQ(lower(m->recipient), "mixed.case@dest.example");
  }
  EXPECT_EQ(parse(upper(s))->recipient, "MIXED.CASE@DEST.EXAMPLE");  // as it came back
  EXPECT_TRUE(verp_parse(kSecret, "BOUNCES", "Bounces.Example.COM", s).has_value());
}

TEST(VerpTest, TamperingFails) {
  const std::string s = sender("user@dest.example");
  const size_t mac = s.find('+') + 1;
  // Each MAC character changed: refused wherever the change is (the
  // comparison is CRYPTO_memcmp, which reads all 16 octets every time).
  for (size_t i = 0; i < kVerpMacLength; ++i) {
    std::string t = s;
    t[mac + i] = t[mac + i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(parse(t).has_value()) << t;
  }
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string t = s;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_FALSE(parse(replaced("0123456789ABCDEF", "0123456789ABCDEE")).has_value());  // queue id
  EXPECT_FALSE(parse(replaced("=user=", "=usex=")).has_value());                      // recipient
  EXPECT_FALSE(parse(replaced("=user=", "=user2=")).has_value());
  EXPECT_FALSE(parse(replaced("=dest.example@", "=dest.example.org@")).has_value());  // domain
  EXPECT_FALSE(parse(replaced("=dest.example@", "=evil.example@")).has_value());
  // Moving the '=' between the local part and the domain changes the text
  // the MAC covers only by that '=': still refused.
  const std::string a = sender("a=b@c.example");
  EXPECT_FALSE(
      parse(absl::StrCat(a.substr(0, a.find("=c.example")), ".c.example@bounces.example.com")).has_value());
  // Another secret.
  EXPECT_FALSE(verp_parse("another secret", kPrefix, kDomain, s).has_value());
  EXPECT_FALSE(verp_parse("", kPrefix, kDomain, s).has_value());
}

TEST(VerpTest, WrongPrefixOrDomainFails) {
  const std::string s = sender("user@dest.example");
  EXPECT_FALSE(verp_parse(kSecret, "bounce", kDomain, s).has_value());
  EXPECT_FALSE(verp_parse(kSecret, "bouncesx", kDomain, s).has_value());
  EXPECT_FALSE(verp_parse(kSecret, "other", kDomain, s).has_value());
  EXPECT_FALSE(verp_parse(kSecret, "", kDomain, s).has_value());
  EXPECT_FALSE(verp_parse(kSecret, kPrefix, "example.com", s).has_value());
  EXPECT_FALSE(verp_parse(kSecret, kPrefix, "x.bounces.example.com", s).has_value());
  EXPECT_FALSE(parse(absl::StrCat("x", s)).has_value());
  EXPECT_FALSE(parse(absl::StrCat(s, ".")).has_value());
}

TEST(VerpTest, MalformedAddressesFail) {
  for (std::string_view a :
       {"", "@", "bounces@bounces.example.com", "bounces+@bounces.example.com",
        "bounces+a=b=c@bounces.example.com", "bounces+abc=0123456789ABCDEF=u=d@bounces.example.com",
        "bounces+aaaaaaaaaaaaaaaa=0123456789ABCDEF==dest.example@bounces.example.com",
        "bounces+aaaaaaaaaaaaaaaa=0123456789ABCDEF=user=@bounces.example.com",
        "bounces+aaaaaaaaaaaaaaaa=0123456789ABCDEG=user=d.example@bounces.example.com",
        "bounces+aaaaaaaaaaaaaaaa=0123456789ABCDEF=user@bounces.example.com",
        "bounces+aaaaaaaaaaaaaaaa=0123456789ABCDEF=us\"er=d.example@bounces.example.com",
        "bounces.example.com", "<>", "<"}) {
    EXPECT_FALSE(parse(a).has_value()) << a;
  }
}

TEST(VerpTest, WhatCannotBeEncoded) {
  EXPECT_EQ(sender("\"quoted local\"@dest.example"), "");
  EXPECT_EQ(sender("\"q\"@dest.example"), "");
  EXPECT_EQ(sender("a@b@dest.example"), "");  // '@' in the local part
  EXPECT_EQ(sender("a b@dest.example"), "");
  EXPECT_EQ(sender("a(b)@dest.example"), "");
  EXPECT_EQ(sender("a..b@dest.example"), "");
  EXPECT_EQ(sender("us\xc3\xa9r@dest.example"), "");  // UTF-8: sent with the plain sender
  EXPECT_EQ(sender("user@[192.0.2.1]"), "");
  EXPECT_EQ(sender("user@dest=example"), "");
  EXPECT_EQ(sender("user@"), "");
  EXPECT_EQ(sender("@dest.example"), "");
  EXPECT_EQ(sender("user"), "");
  EXPECT_EQ(sender("user@dest.example", "0123456789ABCDE"), "");  // queue id: 16 hex digits
  EXPECT_EQ(sender("user@dest.example", "0123456789ABCDEG"), "");
  EXPECT_EQ(verp_sender("", kPrefix, kDomain, kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, "", kDomain, kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, "a..b", kDomain, kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, ".a", kDomain, kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, "a b", kDomain, kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, kPrefix, "", kQueueId, "user@dest.example"), "");
  EXPECT_EQ(verp_sender(kSecret, kPrefix, "bad domain", kQueueId, "user@dest.example"), "");
}

TEST(VerpTest, LengthBound) {
  // bounces+ (8) MAC (16) = ID (16) = ... = ... @bounces.example.com (20):
  // 43 octets besides the local part and the domain.
  const std::string domain = "d.example";  // 9
  const size_t room = kMaxVerpSender - 43 - 20 - domain.size();
  const std::string fits = std::string(room, 'x') + "@" + domain;
  const std::string s = sender(fits);
  EXPECT_EQ(s.size(), kMaxVerpSender);
  EXPECT_EQ(parse(s)->recipient, fits);
  EXPECT_EQ(sender(std::string(room + 1, 'x') + "@" + domain), "");
}

}  // namespace
}  // namespace ringmta::proto

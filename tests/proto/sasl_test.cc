// tests/proto/sasl_test.cc — base64 and the PLAIN/LOGIN response formats.
#include "proto/sasl.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

std::string encode(std::string_view in) {
  std::string out;
  base64_encode(in, &out);
  return out;
}

bool decodes(std::string_view in, std::string* out) { return base64_decode(in, out); }

TEST(SaslTest, Base64Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> kVectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, coded] : kVectors) {
    EXPECT_EQ(encode(plain), coded);
    std::string out;
    ASSERT_TRUE(decodes(coded, &out)) << coded;
    EXPECT_EQ(out, plain);
  }
}

TEST(SaslTest, Base64RoundTripsEveryOctet) {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all.push_back(static_cast<char>(c));
  }
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string out;
    ASSERT_TRUE(decodes(encode(all.substr(0, n)), &out));
    EXPECT_EQ(out, all.substr(0, n));
  }
}

TEST(SaslTest, Base64PaddingMayBeOmittedButNotWrong) {
  std::string out;
  EXPECT_TRUE(decodes("Zg", &out));
  EXPECT_EQ(out, "f");
  EXPECT_TRUE(decodes("Zm8", &out));
  EXPECT_EQ(out, "fo");
  EXPECT_FALSE(decodes("Z", &out));       // one character is no octet
  EXPECT_FALSE(decodes("Zg=", &out));     // padding that does not fill
  EXPECT_FALSE(decodes("Zm8==", &out));
  EXPECT_FALSE(decodes("Zg===", &out));
  EXPECT_FALSE(decodes("=", &out));
  EXPECT_FALSE(decodes("Zg==Zg==", &out));  // padding in the middle
  EXPECT_FALSE(decodes("Zh==", &out));      // non-zero leftover bits
  EXPECT_FALSE(decodes("Zm9", &out));
}

TEST(SaslTest, Base64RefusesForeignOctets) {
  std::string out;
  EXPECT_FALSE(decodes("Zm9v YmFy", &out));
  EXPECT_FALSE(decodes("Zm9v\r\n", &out));
  EXPECT_FALSE(decodes("Zm9v-_", &out));  // base64url is not base64
  EXPECT_FALSE(decodes("*", &out));
  EXPECT_FALSE(decodes(std::string_view("Zm9\0", 4), &out));
  EXPECT_FALSE(decodes("\xC3\xA4\xC3\xA4", &out));
}

TEST(SaslTest, Plain) {
  SaslCredentials c;
  EXPECT_EQ(decode_plain(encode(std::string("\0alice\0secret", 13)), &c), SaslStatus::kOk);
  EXPECT_EQ(c.user, "alice");
  EXPECT_EQ(c.password, "secret");
  EXPECT_EQ(decode_plain(encode(std::string("alice\0alice\0pass word", 21)), &c), SaslStatus::kOk);
  EXPECT_EQ(c.password, "pass word");
  EXPECT_EQ(decode_plain(encode(std::string("bob\0alice\0secret", 16)), &c),
            SaslStatus::kAuthzMismatch);
  EXPECT_EQ(decode_plain("AGFsaWNl*", &c), SaslStatus::kBadBase64);
  const std::string_view kMalformed[] = {
      "",                                 // nothing
      "alice",                            // no NUL
      std::string_view("\0alice", 6),     // one NUL
      std::string_view("\0\0secret", 8),  // empty authcid
      std::string_view("\0alice\0", 7),   // empty password
      std::string_view("\0alice\0se\0cret", 14),
      std::string_view("\0al\x01ice\0secret", 14),  // a control in the user
      std::string_view("\0\xC3\0secret", 9),        // not UTF-8
  };
  for (std::string_view m : kMalformed) {
    EXPECT_EQ(decode_plain(encode(m), &c), SaslStatus::kMalformed) << encode(m);
  }
  std::string long_user(256, 'u');
  EXPECT_EQ(decode_plain(encode(std::string(1, '\0') + long_user + std::string(1, '\0') + "p"), &c),
            SaslStatus::kMalformed);
  long_user.pop_back();
  EXPECT_EQ(decode_plain(encode(std::string(1, '\0') + long_user + std::string(1, '\0') + "p"), &c),
            SaslStatus::kOk);
  EXPECT_EQ(decode_plain(encode(std::string("\0\xC3\xA9l\xC3\xA8ve\0p", 10)), &c), SaslStatus::kOk);
  EXPECT_EQ(c.user, "\xC3\xA9l\xC3\xA8ve");
}

TEST(SaslTest, Login) {
  std::string out;
  EXPECT_EQ(decode_login_user("YWxpY2U=", &out), SaslStatus::kOk);
  EXPECT_EQ(out, "alice");
  EXPECT_EQ(decode_login_password("c2VjcmV0", &out), SaslStatus::kOk);
  EXPECT_EQ(out, "secret");
  EXPECT_EQ(decode_login_user("", &out), SaslStatus::kMalformed);
  EXPECT_EQ(decode_login_password("=", &out), SaslStatus::kBadBase64);
  EXPECT_EQ(decode_login_user(encode("a\tb"), &out), SaslStatus::kMalformed);
  EXPECT_EQ(decode_login_password(encode(std::string("a\0b", 3)), &out), SaslStatus::kMalformed);
  EXPECT_EQ(decode_login_password(encode(std::string(256, 'p')), &out), SaslStatus::kMalformed);
  EXPECT_EQ(decode_login_password(encode("p\tq"), &out), SaslStatus::kOk);
  EXPECT_EQ(decode_login_user("!!", &out), SaslStatus::kBadBase64);
}

TEST(SaslTest, ValidUser) {
  EXPECT_TRUE(valid_sasl_user("alice@example.test"));
  EXPECT_TRUE(valid_sasl_user("al(ice) \\"));
  EXPECT_FALSE(valid_sasl_user(""));
  EXPECT_FALSE(valid_sasl_user("a\rb"));
  EXPECT_FALSE(valid_sasl_user("a\x7f"));
  EXPECT_FALSE(valid_sasl_user("\xFF"));
}

}  // namespace
}  // namespace ringmta::proto

// tests/tools/ctl/zone_text_test.cc — TXT values cut into 255-octet strings.
#include "tools/ctl/zone_text.h"

#include <gtest/gtest.h>

#include "absl/strings/str_join.h"

namespace ringmta::ctl {
namespace {

TEST(ZoneText, AShortValueIsOneString) {
  EXPECT_EQ(txt_strings("v=DMARC1; p=quarantine"), (std::vector<std::string>{"v=DMARC1; p=quarantine"}));
  EXPECT_EQ(txt_strings(""), (std::vector<std::string>{""}));
  EXPECT_EQ(txt_strings(std::string(255, 'a')).size(), 1u);
}

TEST(ZoneText, ALongKeyRecordIsCutBeforeTheKeyThenEvery255Octets) {
  const std::string key(600, 'K');
  const std::string value = "v=DKIM1; k=rsa; p=" + key;
  const std::vector<std::string> s = txt_strings(value);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "v=DKIM1; k=rsa; ");
  EXPECT_EQ(s[1].substr(0, 2), "p=");
  for (const std::string& one : s) {
    EXPECT_LE(one.size(), kTxtStringMax);
  }
  EXPECT_EQ(absl::StrJoin(s, ""), value);  // what a receiver joins back
}

TEST(ZoneText, ALongValueWithoutAKeyIsCutEvery255Octets) {
  const std::string value(600, 'x');
  const std::vector<std::string> s = txt_strings(value);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].size(), 255u);
  EXPECT_EQ(s[2].size(), 90u);
  // "np=" is not a p= tag: nothing is cut there.
  EXPECT_EQ(txt_strings(std::string(300, 'x') + "np=1")[0].size(), 255u);
}

TEST(ZoneText, QuotesForAZoneFile) {
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(zone_txt_line("_dmarc.example.com", "v=DMARC1; p=none"), "_dmarc.example.com. IN TXT \"v=DMARC1; p=none\"");
  EXPECT_EQ(zone_txt_line("example.com.", "v=spf1 -all"), "example.com. IN TXT \"v=spf1 -all\"");
  EXPECT_EQ(zone_txt_block("s._domainkey.example.com", "v=DKIM1; k=rsa; p=" + std::string(300, 'K')),
            "s._domainkey.example.com. IN TXT ( \"v=DKIM1; k=rsa; \"\n    \"p=" + std::string(253, 'K') + "\"\n    \"" +
                std::string(47, 'K') + "\" )");
}

}  // namespace
}  // namespace ringmta::ctl

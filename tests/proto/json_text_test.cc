// tests/proto/json_text_test.cc — JSON string literals: escapes, UTF-8
// kept, bytes that are not UTF-8 replaced (the event log and the admin API
// write a peer's text into JSON; a client's parser must always take it).
#include "proto/json_text.h"

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

std::string json(std::string_view s) {
  std::string out;
  append_json_string(&out, s);
  return out;
}

TEST(JsonText, Escapes) {
  EXPECT_EQ(json("a\"b\\c\n\r\t\x01"), "\"a\\\"b\\\\c\\n\\r\\t\\u0001\"");
  EXPECT_EQ(json(""), "\"\"");
}

TEST(JsonText, KeepsUtf8) {
  EXPECT_EQ(json("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x93\xA7"), "\"J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x93\xA7\"");
}

TEST(JsonText, ReplacesWhatIsNotUtf8) {
  EXPECT_EQ(json("\xFF"), "\"\\ufffd\"");
  EXPECT_EQ(json("ab\xC3"), "\"ab\\ufffd\"");            // cut mid-character
  EXPECT_EQ(json("\xC0\xAF"), "\"\\ufffd\\ufffd\"");     // overlong
  EXPECT_EQ(json("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(json("\xF4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // past U+10FFFF
  EXPECT_EQ(json("550 \xE9t\xE9"), "\"550 \\ufffdt\\ufffd\"");  // Latin-1 from a peer
}

}  // namespace
}  // namespace ringmta::proto

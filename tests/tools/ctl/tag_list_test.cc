// tests/tools/ctl/tag_list_test.cc — RFC 6376 3.2 tag-lists.
#include "tools/ctl/tag_list.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

TEST(TagList, ReadsTagsInOrderWithoutTheWhitespaceAroundThem) {
  absl::StatusOr<TagList> t = parse_tag_list(" v = DKIM1 ;k=rsa;\tp=AB CD ;");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[0], (Tag{"v", "DKIM1"}));
  EXPECT_EQ((*t)[1], (Tag{"k", "rsa"}));
  EXPECT_EQ((*t)[2], (Tag{"p", "AB CD"}));  // inner whitespace stays
  EXPECT_EQ(find_tag(*t, "k")->value, "rsa");
  EXPECT_EQ(find_tag(*t, "K"), nullptr);  // names are case-sensitive
}

TEST(TagList, EmptyValuesAndEmptyListsAreAllowed) {
  absl::StatusOr<TagList> t = parse_tag_list("p=");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0], (Tag{"p", ""}));
  EXPECT_TRUE(parse_tag_list("")->empty());
  EXPECT_TRUE(parse_tag_list("  ")->empty());
}

TEST(TagList, RefusesWhatMakesTheWholeListInvalid) {
  EXPECT_FALSE(parse_tag_list("v=DKIM1; v=DKIM1").ok());  // duplicate
  EXPECT_FALSE(parse_tag_list("v=DKIM1;;p=x").ok());      // empty tag-spec
  EXPECT_FALSE(parse_tag_list("1v=DKIM1").ok());          // name must start with ALPHA
  EXPECT_FALSE(parse_tag_list("v-x=1").ok());             // '-' is not ALNUMPUNC
  EXPECT_FALSE(parse_tag_list("just text").ok());         // no '='
  EXPECT_FALSE(parse_tag_list(std::string("p=a\x01")).ok());
  EXPECT_FALSE(parse_tag_list("p=\xc3\xa9").ok());  // not ASCII
  EXPECT_NE(std::string(parse_tag_list("a=1; a=2").status().message()).find("twice"), std::string::npos);
}

}  // namespace
}  // namespace ringmta::ctl

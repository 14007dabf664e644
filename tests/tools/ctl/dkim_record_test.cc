// tests/tools/ctl/dkim_record_test.cc — DKIM key records (RFC 6376 3.6.1).
#include "tools/ctl/dkim_record.h"

#include <gtest/gtest.h>

namespace ringmta::ctl {
namespace {

TEST(DkimRecord, ReadsAnRsaRecordAndTakesWhitespaceOutOfTheKey) {
  absl::StatusOr<DkimKeyRecord> r = parse_dkim_key_record("v=DKIM1; k=rsa; p=MIIB IjAN\tBgkq; x=ignored");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->has_version);
  EXPECT_EQ(r->key_type, "rsa");
  EXPECT_EQ(r->public_key, "MIIBIjANBgkq");
  EXPECT_TRUE(accepts_sha256(*r));
  EXPECT_TRUE(serves_email(*r));
}

TEST(DkimRecord, VersionIsOptionalAndKeyTypeDefaultsToRsa) {
  absl::StatusOr<DkimKeyRecord> r = parse_dkim_key_record("p=abc=");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_version);
  EXPECT_EQ(r->key_type, "rsa");
  EXPECT_EQ(parse_dkim_key_record("k=ED25519; p=abc")->key_type, "ed25519");
}

TEST(DkimRecord, ListsOfHashesServicesAndFlags) {
  absl::StatusOr<DkimKeyRecord> r = parse_dkim_key_record("h=sha1 : sha256; s=email; t=y:s; p=abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->hashes, (std::vector<std::string>{"sha1", "sha256"}));
  EXPECT_EQ(r->flags, (std::vector<std::string>{"y", "s"}));
  EXPECT_TRUE(accepts_sha256(*r));
  EXPECT_FALSE(accepts_sha256(*parse_dkim_key_record("h=sha1; p=abc")));
  EXPECT_FALSE(serves_email(*parse_dkim_key_record("s=other; p=abc")));
  EXPECT_TRUE(serves_email(*parse_dkim_key_record("s=*; p=abc")));
}

TEST(DkimRecord, AnEmptyKeyIsARevokedKeyNotAnError) {
  absl::StatusOr<DkimKeyRecord> r = parse_dkim_key_record("v=DKIM1; p=");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->public_key.empty());
}

TEST(DkimRecord, RefusesRecordsThatAreNotKeyRecords) {
  EXPECT_FALSE(parse_dkim_key_record("k=rsa; v=DKIM1; p=abc").ok());  // v= not first
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM2; p=abc").ok());
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; k=rsa").ok());   // no p=
  EXPECT_FALSE(parse_dkim_key_record("v=DKIM1; p=ab!c").ok());  // not base64
  EXPECT_FALSE(parse_dkim_key_record("v=spf1 -all").ok());
  EXPECT_NE(std::string(parse_dkim_key_record("k=rsa; v=DKIM1; p=abc").status().message()).find("first"),
            std::string::npos);
}

TEST(DkimRecord, WritesTheRecordToPublish) {
  EXPECT_EQ(dkim_record_text("rsa", "MIIB"), "v=DKIM1; k=rsa; p=MIIB");
  EXPECT_EQ(dkim_record_text("ed25519", "abc="), "v=DKIM1; k=ed25519; p=abc=");
  absl::StatusOr<DkimKeyRecord> back = parse_dkim_key_record(dkim_record_text("ed25519", "abc="));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->key_type, "ed25519");
  EXPECT_EQ(back->public_key, "abc=");
}

}  // namespace
}  // namespace ringmta::ctl

#include "spool/record.h"

#include <string>

#include "gtest/gtest.h"
#include "spool/crc32c.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using testing::sample_body;
using testing::sample_envelope;

const absl::Time kArrival = absl::FromUnixMillis(1732269296123);

void expect_same(const proto::Envelope& a, const proto::Envelope& b) {
  EXPECT_EQ(a.sender, b.sender);
  EXPECT_EQ(a.recipients, b.recipients);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.smtputf8, b.smtputf8);
  EXPECT_EQ(a.declared_size, b.declared_size);
  EXPECT_EQ(a.helo, b.helo);
  EXPECT_EQ(a.client_addr, b.client_addr);
  EXPECT_EQ(a.auth_user, b.auth_user);
  EXPECT_EQ(a.pool, b.pool);
  EXPECT_EQ(a.tenant, b.tenant);
  EXPECT_EQ(a.campaign, b.campaign);
}

TEST(Record, MessageRoundTrip) {
  for (int i = 0; i < 6; ++i) {
    proto::Envelope env = sample_envelope(i, i + 1);
    std::string trace = "Received: from client.example.test\r\n";
    std::string body = sample_body(i);
    std::string rec = encode_message_record("0123456789ABCDEF", kArrival, env, trace, body);
    DecodedRecord d = decode_record(rec);
    ASSERT_EQ(d.status, DecodeStatus::kRecord) << d.error;
    EXPECT_EQ(d.size, rec.size());
    ASSERT_EQ(d.type, RecordType::kMessage);
    EXPECT_EQ(d.message.queue_id, "0123456789ABCDEF");
    EXPECT_EQ(d.message.arrival, kArrival);
    expect_same(d.message.envelope, env);
    EXPECT_EQ(d.message.content_size, trace.size() + body.size());
    EXPECT_EQ(d.content, trace + body);
    EXPECT_EQ(rec.substr(d.content_offset), trace + body);
  }
}

TEST(Record, ControlValuesRoundTrip) {
  proto::Envelope env = sample_envelope(2);
  env.pool = "newsletters";
  env.tenant = "acme";
  env.campaign = "spring-sale";
  std::string rec = encode_message_record("0123456789ABCDEF", kArrival, env, "", "Subject: x\r\n\r\nhi\r\n");
  EXPECT_EQ(static_cast<uint8_t>(rec[5]), kMessageVersion);
  DecodedRecord d = decode_record(rec);
  ASSERT_EQ(d.status, DecodeStatus::kRecord) << d.error;
  expect_same(d.message.envelope, env);
}

TEST(Record, VersionOneMessagesStillDecode) {
  // A version-1 record (written before pool, tenant and campaign existed),
  // as the older writer laid it out.
  proto::Envelope env = sample_envelope(3, 2);
  const std::string content = "Subject: old\r\n\r\nbody\r\n";
  std::string rec(kHeaderSize, '\0');
  auto le = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      rec.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  };
  auto str = [&](std::string_view s, int n) {
    le(s.size(), n);
    rec.append(s);
  };
  str("00000000000000AB", 2);
  le(static_cast<uint64_t>(absl::ToUnixMillis(kArrival)), 8);
  str(env.sender, 4);
  le(static_cast<uint64_t>(env.body), 1);
  le(env.smtputf8, 1);
  le(env.declared_size, 8);
  str(env.helo, 4);
  str(env.client_addr, 4);
  str(env.auth_user, 4);
  le(env.recipients.size(), 4);
  for (const std::string& r : env.recipients) {
    str(r, 4);
  }
  le(content.size(), 8);
  rec.append(content);
  const char tvr[4] = {static_cast<char>(RecordType::kMessage), 1, 0, 0};
  const std::string_view payload = std::string_view(rec).substr(kHeaderSize);
  const uint32_t crc = crc32c_extend(crc32c_extend(0, tvr, 4), payload);
  for (int i = 0; i < 4; ++i) {
    rec[i] = static_cast<char>((payload.size() >> (8 * i)) & 0xFF);
    rec[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
  rec[4] = static_cast<char>(RecordType::kMessage);
  rec[5] = 1;
  DecodedRecord d = decode_record(rec);
  ASSERT_EQ(d.status, DecodeStatus::kRecord) << d.error;
  ASSERT_EQ(d.type, RecordType::kMessage);
  expect_same(d.message.envelope, env);
  EXPECT_EQ(d.content, content);
}

TEST(Record, PiecewiseCrcMatchesWhole) {
  proto::Envelope env = sample_envelope(1);
  std::string trace = "Received: x\r\n";
  std::string body = sample_body(1);
  std::string head(kHeaderSize, '\0');
  encode_message_meta("00000000000000AA", kArrival, env, trace.size() + body.size(), &head);
  uint32_t crc = record_crc_seed(RecordType::kMessage);
  crc = crc32c_extend(crc, std::string_view(head).substr(kHeaderSize));
  crc = crc32c_extend(crc, trace);
  crc = crc32c_extend(crc, body);
  const auto payload = static_cast<uint32_t>(head.size() - kHeaderSize + trace.size() + body.size());
  encode_header(RecordType::kMessage, payload, crc, head.data());
  EXPECT_EQ(head + trace + body,
            encode_message_record("00000000000000AA", kArrival, env, trace, body));
}

TEST(Record, RecipientStateRoundTrip) {
  RecipientStateRecord s;
  s.queue_id = "0123456789ABCDEF";
  s.rcpt_index = 7;
  s.state.status = RcptStatus::kDeferred;
  s.state.attempts = 3;
  s.state.next_retry = kArrival + absl::Seconds(300);
  std::string rec = encode_recipient_state_record(s);
  DecodedRecord d = decode_record(rec);
  ASSERT_EQ(d.status, DecodeStatus::kRecord);
  ASSERT_EQ(d.type, RecordType::kRecipientState);
  EXPECT_EQ(d.rcpt.queue_id, s.queue_id);
  EXPECT_EQ(d.rcpt.rcpt_index, 7u);
  EXPECT_EQ(d.rcpt.state.status, RcptStatus::kDeferred);
  EXPECT_EQ(d.rcpt.state.attempts, 3u);
  EXPECT_EQ(d.rcpt.state.next_retry, s.state.next_retry);
}

TEST(Record, ZeroHeaderIsEnd) {
  std::string zeros(64, '\0');
  EXPECT_EQ(decode_record(zeros).status, DecodeStatus::kEnd);
}

TEST(Record, EveryTruncationNeedsMore) {
  std::string rec = encode_message_record("0123456789ABCDEF", kArrival, sample_envelope(3),
                                          "", sample_body(3, 100));
  for (size_t len = 0; len < rec.size(); ++len) {
    DecodedRecord d = decode_record(std::string_view(rec).substr(0, len));
    ASSERT_EQ(d.status, DecodeStatus::kNeedMore) << len;
    EXPECT_GT(d.size, len);
    EXPECT_LE(d.size, rec.size());
  }
  // Followed by another record: still exactly one record.
  std::string two = rec + rec;
  DecodedRecord d = decode_record(two);
  ASSERT_EQ(d.status, DecodeStatus::kRecord);
  EXPECT_EQ(d.size, rec.size());
}

TEST(Record, EveryFlippedByteIsCaught) {
  std::string rec = encode_message_record("0123456789ABCDEF", kArrival, sample_envelope(2),
                                          "Received: y\r\n", sample_body(2, 120));
  for (size_t i = 0; i < rec.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string bad = rec;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      DecodedRecord d = decode_record(bad);
      // A flip in the length field may make the record look longer (need
      // more) or shorter (checksum); a flip in the version makes it a
      // record we skip. It is never a valid message.
      EXPECT_FALSE(d.status == DecodeStatus::kRecord && d.type == RecordType::kMessage)
          << "byte " << i << " mask " << int(mask);
    }
  }
}

TEST(Record, HugeLengthIsCorruptNotAllocated) {
  std::string rec = encode_message_record("0123456789ABCDEF", kArrival, sample_envelope(2), "",
                                          "body");
  std::string bad = rec;
  bad[0] = bad[1] = bad[2] = bad[3] = '\xFF';
  EXPECT_EQ(decode_record(bad).status, DecodeStatus::kCorrupt);
}

// A payload whose checksum is right but whose inner lengths lie (a writer
// bug, or a collision) is rejected without reading out of bounds.
TEST(Record, LyingInnerLengthsAreCorrupt) {
  std::string rec = encode_message_record("0123456789ABCDEF", kArrival, sample_envelope(2), "",
                                          "body");
  std::string payload = rec.substr(kHeaderSize);
  for (size_t i = 0; i < payload.size(); ++i) {
    std::string p = payload;
    p[i] = static_cast<char>(p[i] ^ 0xFF);
    std::string r(kHeaderSize, '\0');
    uint32_t crc = crc32c_extend(record_crc_seed(RecordType::kMessage), p);
    encode_header(RecordType::kMessage, static_cast<uint32_t>(p.size()), crc, r.data());
    r += p;
    DecodedRecord d = decode_record(r);
    if (d.status == DecodeStatus::kRecord) {
      // Some bytes (text, flags, times) can change and stay well formed.
      EXPECT_EQ(d.type, RecordType::kMessage);
      EXPECT_LE(d.content_offset + d.content.size(), r.size());
    } else {
      EXPECT_EQ(d.status, DecodeStatus::kCorrupt) << i;
    }
  }
}

TEST(Record, OverlongQueueIdStillDecodes) {
  const std::string id(100, 'A');
  DecodedRecord d = decode_record(encode_message_record(id, kArrival, sample_envelope(1), "", "x"));
  ASSERT_EQ(d.status, DecodeStatus::kRecord);
  EXPECT_EQ(d.message.queue_id, id.substr(0, kMaxQueueIdSize));
}

TEST(Record, UnknownTypeIsSkippable) {
  std::string r(kHeaderSize, '\0');
  std::string p = "future";
  uint32_t crc = crc32c_extend(record_crc_seed(static_cast<RecordType>(9)), p);
  encode_header(static_cast<RecordType>(9), static_cast<uint32_t>(p.size()), crc, r.data());
  r += p;
  DecodedRecord d = decode_record(r);
  ASSERT_EQ(d.status, DecodeStatus::kRecord);
  EXPECT_EQ(d.type, RecordType::kUnknown);
  EXPECT_EQ(d.size, r.size());
}

}  // namespace
}  // namespace ringmta::spool

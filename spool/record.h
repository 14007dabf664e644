// spool/record.h — the spool's record format: typed, length-prefixed,
// checksummed records (like Postfix's queue file records), appended to
// segment files and read back by recovery and ringmta-spool.
//
// Every record is a 12-byte header and a payload; all integers little-endian:
//
//   u32 payload length | u8 type | u8 version | u16 reserved (0) | u32 crc32c
//
// The CRC covers type, version, reserved and the payload, so a torn or
// overwritten record fails it. A header whose length and type are both zero
// marks the end of data (a segment may be preallocated with zeros).
//
// kMessage payload:   str16 queue id, i64 arrival (unix ms), str32 sender,
//                     u8 BODY type, u8 SMTPUTF8, u64 declared size,
//                     str32 helo, str32 client addr, str32 auth user,
//                     (version 2:) str16 pool, str16 tenant, str16 campaign,
//                     u32 recipient count, str32 each recipient,
//                     u64 content size, then the content (trace headers + body).
// kRecipientState:    str16 queue id, u32 recipient index, u8 status,
//                     u32 attempts, i64 next retry (unix ms).
// (strN: a uN byte count, then the bytes.)
//
// Writing a message without copying its body:
//
//   std::string head(kHeaderSize, '\0');
//   encode_message_meta(id, arrival, env, trace.size() + body.size(), &head);
//   uint32_t crc = record_crc_seed(RecordType::kMessage);
//   crc = crc32c_extend(crc, meta part of head); ... trace ...; ... body ...;
//   encode_header(RecordType::kMessage, payload_size, crc, head.data());
//   // writev: head, trace, body
//
// Reading: decode_record(bytes) parses the record at the front of bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "proto/envelope.h"

namespace ringmta::spool {

inline constexpr size_t kHeaderSize = 12;
// Each type has its own version; a reader skips a version it does not know
// (a newer writer's) and still reads every older one.
inline constexpr uint8_t kMessageVersion = 2;  // 2: pool, tenant, campaign
inline constexpr uint8_t kStateVersion = 1;
uint8_t record_version(uint8_t type);
// No record is larger: a corrupt length can never ask for more than this.
inline constexpr uint32_t kMaxPayload = 1u << 30;
inline constexpr size_t kMaxQueueIdSize = 64;

enum class RecordType : uint8_t {
  kEnd = 0,  // only in a zero header
  kMessage = 1,
  kRecipientState = 2,
  kUnknown = 0xFF,  // decode only: a valid record of a type or version we skip
};

enum class RcptStatus : uint8_t { kPending = 0, kDelivered = 1, kDeferred = 2, kBounced = 3 };

// is_final: delivered and bounced recipients need no more attempts.
inline bool is_final(RcptStatus s) {
  return s == RcptStatus::kDelivered || s == RcptStatus::kBounced;
}
// rcpt_status_name: "pending", "delivered", "deferred", "bounced".
std::string_view rcpt_status_name(RcptStatus s);

struct RecipientState {
  RcptStatus status = RcptStatus::kPending;
  uint32_t attempts = 0;
  absl::Time next_retry = absl::UnixEpoch();  // meaningful when deferred
};

struct RecipientStateRecord {
  std::string queue_id;
  uint32_t rcpt_index = 0;
  RecipientState state;
};

// MessageMeta is a message record without its content.
struct MessageMeta {
  std::string queue_id;
  absl::Time arrival = absl::UnixEpoch();
  proto::Envelope envelope;
  uint64_t content_size = 0;
};

// encode_message_meta appends the kMessage payload up to (not including) the
// content to *out. The caller appends or references the content itself.
void encode_message_meta(std::string_view queue_id, absl::Time arrival,
                         const proto::Envelope& envelope, uint64_t content_size,
                         std::string* out);

// record_crc_seed: the CRC over type, version and reserved; extend it over
// the payload pieces in order with crc32c_extend.
uint32_t record_crc_seed(RecordType type);

// encode_header writes the 12-byte header to out.
void encode_header(RecordType type, uint32_t payload_size, uint32_t crc, char* out);

// encode_message_record: one whole record (tests, compaction, tools).
std::string encode_message_record(std::string_view queue_id, absl::Time arrival,
                                  const proto::Envelope& envelope,
                                  std::string_view trace_headers, std::string_view body);

// encode_recipient_state_record: one whole kRecipientState record.
std::string encode_recipient_state_record(const RecipientStateRecord& rec);

enum class DecodeStatus {
  kRecord,    // a whole, valid record: see type
  kNeedMore,  // bytes end inside the record: size says how many are needed
  kEnd,       // a zero header: no more data here
  kCorrupt,   // bad checksum, bad length or malformed payload: see error
};

struct DecodedRecord {
  DecodeStatus status = DecodeStatus::kCorrupt;
  // kRecord: bytes the record takes. kNeedMore: bytes needed at least
  // (the whole record once the header is in; the header before that).
  size_t size = 0;
  RecordType type = RecordType::kUnknown;
  MessageMeta message;          // type kMessage
  size_t content_offset = 0;    // type kMessage: from the record's start
  std::string_view content;     // type kMessage: a view into the input
  RecipientStateRecord rcpt;    // type kRecipientState
  std::string_view error;       // kCorrupt: why (a static string)
};

// decode_record parses the record at the front of bytes. Every length is
// checked against kMaxPayload and the bytes present before use.
DecodedRecord decode_record(std::string_view bytes);

// peek_payload_size reads the header's length field (bytes >= kHeaderSize).
uint32_t peek_payload_size(std::string_view bytes);

}  // namespace ringmta::spool

#include "spool/record.h"

#include <cstring>

#include "spool/crc32c.h"

namespace ringmta::spool {
namespace {

void put_le(std::string* out, uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; ++i) {
    b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  out->append(b, bytes);
}

void put_str32(std::string* out, std::string_view s) {
  put_le(out, s.size(), 4);
  out->append(s);
}

// put_str16: a short value (the control headers' values are at most 255
// octets); longer ones are cut rather than make an undecodable record.
void put_str16(std::string* out, std::string_view s) {
  s = s.substr(0, 0xFFFF);
  put_le(out, s.size(), 2);
  out->append(s);
}

// put_queue_id: ids longer than the decoder accepts are cut to fit, so a bad
// id can never make a record that recovery would take for a torn tail.
void put_queue_id(std::string* out, std::string_view id) {
  id = id.substr(0, kMaxQueueIdSize);
  put_le(out, id.size(), 2);
  out->append(id);
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

// Reader walks a payload; any read past its end sets ok = false and returns
// zeros, so one check at the end covers every field.
class Reader {
 public:
  explicit Reader(std::string_view in) : _in(in) {}
  uint64_t num(int bytes) {
    if (!_ok || _in.size() < static_cast<size_t>(bytes)) {
      _ok = false;
      return 0;
    }
    uint64_t v = get_le(_in.data(), bytes);
    _in.remove_prefix(bytes);
    return v;
  }
  std::string_view bytes(uint64_t n) {
    if (!_ok || _in.size() < n) {
      _ok = false;
      return {};
    }
    std::string_view s = _in.substr(0, n);
    _in.remove_prefix(n);
    return s;
  }
  std::string str(int len_bytes, size_t max) {
    uint64_t n = num(len_bytes);
    if (n > max) {
      _ok = false;
      return {};
    }
    return std::string(bytes(n));
  }
  size_t left() const { return _in.size(); }
  bool ok() const { return _ok; }
  void fail() { _ok = false; }

 private:
  std::string_view _in;
  bool _ok = true;
};

bool decode_message(std::string_view payload, uint8_t version, DecodedRecord* out) {
  Reader r(payload);
  MessageMeta& m = out->message;
  m.queue_id = r.str(2, kMaxQueueIdSize);
  m.arrival = absl::FromUnixMillis(static_cast<int64_t>(r.num(8)));
  proto::Envelope& e = m.envelope;
  e.sender = r.str(4, payload.size());
  uint64_t body = r.num(1);
  if (body > static_cast<uint64_t>(proto::BodyType::k8BitMime)) {
    r.fail();
  }
  e.body = static_cast<proto::BodyType>(body);
  e.smtputf8 = r.num(1) != 0;
  e.declared_size = r.num(8);
  e.helo = r.str(4, payload.size());
  e.client_addr = r.str(4, payload.size());
  e.auth_user = r.str(4, payload.size());
  if (version >= 2) {
    e.pool = r.str(2, payload.size());
    e.tenant = r.str(2, payload.size());
    e.campaign = r.str(2, payload.size());
  }
  uint64_t nrcpt = r.num(4);
  // Each recipient takes at least its 4-byte length: bounds the reserve.
  if (nrcpt > r.left() / 4) {
    return false;
  }
  e.recipients.reserve(nrcpt);
  for (uint64_t i = 0; i < nrcpt && r.ok(); ++i) {
    e.recipients.push_back(r.str(4, payload.size()));
  }
  m.content_size = r.num(8);
  if (!r.ok() || m.content_size != r.left()) {
    return false;
  }
  out->content_offset = kHeaderSize + (payload.size() - r.left());
  out->content = r.bytes(m.content_size);
  return r.ok();
}

bool decode_rcpt_state(std::string_view payload, DecodedRecord* out) {
  Reader r(payload);
  RecipientStateRecord& s = out->rcpt;
  s.queue_id = r.str(2, kMaxQueueIdSize);
  s.rcpt_index = static_cast<uint32_t>(r.num(4));
  uint64_t status = r.num(1);
  if (status > static_cast<uint64_t>(RcptStatus::kBounced)) {
    r.fail();
  }
  s.state.status = static_cast<RcptStatus>(status);
  s.state.attempts = static_cast<uint32_t>(r.num(4));
  s.state.next_retry = absl::FromUnixMillis(static_cast<int64_t>(r.num(8)));
  return r.ok() && r.left() == 0;
}

DecodedRecord corrupt(const char* why) {
  DecodedRecord d;
  d.status = DecodeStatus::kCorrupt;
  d.error = why;
  return d;
}

}  // namespace

std::string_view rcpt_status_name(RcptStatus s) {
  switch (s) {
    case RcptStatus::kPending:
      return "pending";
    case RcptStatus::kDelivered:
      return "delivered";
    case RcptStatus::kDeferred:
      return "deferred";
    case RcptStatus::kBounced:
      return "bounced";
  }
  return "unknown";
}

void encode_message_meta(std::string_view queue_id, absl::Time arrival,
                         const proto::Envelope& envelope, uint64_t content_size,
                         std::string* out) {
  put_queue_id(out, queue_id);
  put_le(out, static_cast<uint64_t>(absl::ToUnixMillis(arrival)), 8);
  put_str32(out, envelope.sender);
  put_le(out, static_cast<uint64_t>(envelope.body), 1);
  put_le(out, envelope.smtputf8 ? 1 : 0, 1);
  put_le(out, envelope.declared_size, 8);
  put_str32(out, envelope.helo);
  put_str32(out, envelope.client_addr);
  put_str32(out, envelope.auth_user);
  put_str16(out, envelope.pool);
  put_str16(out, envelope.tenant);
  put_str16(out, envelope.campaign);
  put_le(out, envelope.recipients.size(), 4);
  for (const std::string& rcpt : envelope.recipients) {
    put_str32(out, rcpt);
  }
  put_le(out, content_size, 8);
}

uint8_t record_version(uint8_t type) {
  return type == static_cast<uint8_t>(RecordType::kMessage) ? kMessageVersion : kStateVersion;
}

uint32_t record_crc_seed(RecordType type) {
  const char tvr[4] = {static_cast<char>(type), static_cast<char>(record_version(static_cast<uint8_t>(type))), 0,
                       0};
  return crc32c_extend(0, tvr, sizeof tvr);
}

void encode_header(RecordType type, uint32_t payload_size, uint32_t crc, char* out) {
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((payload_size >> (8 * i)) & 0xFF);
    out[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
  out[4] = static_cast<char>(type);
  out[5] = static_cast<char>(record_version(static_cast<uint8_t>(type)));
  out[6] = 0;
  out[7] = 0;
}

std::string encode_message_record(std::string_view queue_id, absl::Time arrival,
                                  const proto::Envelope& envelope,
                                  std::string_view trace_headers, std::string_view body) {
  std::string rec(kHeaderSize, '\0');
  encode_message_meta(queue_id, arrival, envelope, trace_headers.size() + body.size(), &rec);
  rec.append(trace_headers);
  rec.append(body);
  std::string_view payload = std::string_view(rec).substr(kHeaderSize);
  uint32_t crc = crc32c_extend(record_crc_seed(RecordType::kMessage), payload);
  encode_header(RecordType::kMessage, static_cast<uint32_t>(payload.size()), crc, rec.data());
  return rec;
}

std::string encode_recipient_state_record(const RecipientStateRecord& s) {
  std::string rec(kHeaderSize, '\0');
  put_queue_id(&rec, s.queue_id);
  put_le(&rec, s.rcpt_index, 4);
  put_le(&rec, static_cast<uint64_t>(s.state.status), 1);
  put_le(&rec, s.state.attempts, 4);
  put_le(&rec, static_cast<uint64_t>(absl::ToUnixMillis(s.state.next_retry)), 8);
  std::string_view payload = std::string_view(rec).substr(kHeaderSize);
  uint32_t crc = crc32c_extend(record_crc_seed(RecordType::kRecipientState), payload);
  encode_header(RecordType::kRecipientState, static_cast<uint32_t>(payload.size()), crc,
                rec.data());
  return rec;
}

uint32_t peek_payload_size(std::string_view bytes) {
  return static_cast<uint32_t>(get_le(bytes.data(), 4));
}

DecodedRecord decode_record(std::string_view bytes) {
  DecodedRecord d;
  if (bytes.size() < kHeaderSize) {
    d.status = DecodeStatus::kNeedMore;
    d.size = kHeaderSize;
    return d;
  }
  const uint32_t len = peek_payload_size(bytes);
  const uint8_t type = static_cast<uint8_t>(bytes[4]);
  const uint8_t version = static_cast<uint8_t>(bytes[5]);
  if (len == 0 && type == 0) {
    d.status = DecodeStatus::kEnd;
    return d;
  }
  if (len > kMaxPayload) {
    return corrupt("record length over the limit");
  }
  if (bytes.size() - kHeaderSize < len) {
    d.status = DecodeStatus::kNeedMore;
    d.size = kHeaderSize + len;
    return d;
  }
  const uint32_t stored_crc = static_cast<uint32_t>(get_le(bytes.data() + 8, 4));
  std::string_view payload = bytes.substr(kHeaderSize, len);
  uint32_t crc = crc32c_extend(0, bytes.data() + 4, 4);
  crc = crc32c_extend(crc, payload);
  if (crc != stored_crc) {
    return corrupt("record checksum mismatch");
  }
  d.size = kHeaderSize + len;
  d.status = DecodeStatus::kRecord;
  const bool known = type == static_cast<uint8_t>(RecordType::kMessage) ? version >= 1 && version <= kMessageVersion
                                                                        : version == kStateVersion;
  if (!known) {
    // A valid record from a newer writer: skip it rather than cut the segment.
    d.type = RecordType::kUnknown;
    return d;
  }
  switch (static_cast<RecordType>(type)) {
    case RecordType::kMessage:
      d.type = RecordType::kMessage;
      if (!decode_message(payload, version, &d)) {
        return corrupt("malformed message record");
      }
      return d;
    case RecordType::kRecipientState:
      d.type = RecordType::kRecipientState;
      if (!decode_rcpt_state(payload, &d)) {
        return corrupt("malformed recipient state record");
      }
      return d;
    default:
      d.type = RecordType::kUnknown;
      return d;
  }
}

}  // namespace ringmta::spool

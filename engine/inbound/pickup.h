// engine/inbound/pickup.h — shard 0's side of the maildrop pickup: the
// files MaildropReader (maildrop_reader.h) has read become messages
// (pickup_message.h) that go the way a message goes at the end of SMTP
// DATA (signed when a key applies, then into the next spool batch), and a
// file is deleted only once every one of its messages is durable. Like
// Postfix's pickup(8), for ringmta-sendmail's fallback and the Postfix
// queue import (spool/maildrop.h has the format).
//
//   Pickup pickup(ctx, reader, signing, store, suppression);
//   shard's on_stored, for a slot with kPickupSlotBit: pickup.on_stored(slot, gen, ok)
//
// A file's messages are tagged (id | kPickupSlotBit, message index). A
// store failure leaves the file in the maildrop to be read again (nothing
// is lost, and a message already stored from it is stored again: at least
// once). A file that cannot be a message is set aside by the reader.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/dkim/signing.h"
#include "engine/inbound/maildrop_reader.h"
#include "engine/runtime/component.h"
#include "engine/shard_context.h"
#include "engine/store/store.h"

namespace ringmta {

class Suppression;

// Store/Signing slots with this bit set belong to the pickup (the admin
// API's kAdminSlotBit is 1 << 30).
inline constexpr uint32_t kPickupSlotBit = 1u << 29;

class Pickup : public Component {
 public:
  // suppression: recipients it refuses are left out, as RCPT TO refuses
  // them (null: off).
  Pickup(const ShardContext& ctx, MaildropReader& reader, Signing& signing, Store& store, Suppression* suppression)
      : _ctx(ctx), _reader(reader), _signing(signing), _store(store), _suppression(suppression) {}

  void poll() override;
  int64_t wait_bound_us(int64_t /*now_ms*/) const override { return _reader.busy() ? kBusyWaitUs : -1; }
  bool drained() const override { return _pending.empty(); }
  void on_stored(uint32_t slot, uint32_t gen, bool ok);

 private:
  static constexpr int64_t kBusyWaitUs = 2000;
  struct Pending {
    std::string name;
    std::string summary;  // for the log line once stored
    std::vector<std::string> queue_ids;
    size_t outstanding = 0;
    bool failed = false;
  };
  void start(MaildropReader::File& f);

  const ShardContext& _ctx;
  MaildropReader& _reader;
  Signing& _signing;
  Store& _store;
  Suppression* const _suppression;
  absl::flat_hash_map<uint32_t, Pending> _pending;  // by id
  uint32_t _next_id = 0;
};

}  // namespace ringmta

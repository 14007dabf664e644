// engine/admin/injection.h — POST /api/v1/inject: the request parsed
// (proto/inject_request.h), its messages built (proto/inject_message.h),
// each handed to Signing and the Store like a message at the end of SMTP
// DATA, and the answer sent only once every one of them is durable (the
// same group commit as SMTP: a success means "on stable storage").
//
//   Injection inj(ctx, signing, store, respond);
//   auto r = inj.start(request, ref, client_addr);  // nullopt: answered later
//   store's answer hook, for an admin slot: inj.on_stored(slot, index, ok)
//
// A request's messages are tagged (slot | kAdminSlotBit, index): the
// connection's slot is the request's for as long as it waits (the server
// parses nothing more on that connection, and keeps the slot even if the
// client leaves), and the index says which message a result is for, since
// signing threads may finish them out of order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/admin/admin_api_types.h"
#include "engine/dkim/signing.h"
#include "engine/shard_context.h"
#include "engine/store/store.h"
#include "proto/http_parse.h"
#include "proto/inject_request.h"
#include "engine/suppression/suppression.h"

namespace ringmta {

// Store/Signing slots with this bit set belong to the admin API.
inline constexpr uint32_t kAdminSlotBit = 1u << 30;

class Injection {
 public:
  using Respond = std::function<void(AdminRequestRef, const AdminResponse&)>;
  // suppression: recipients it refuses go into failed_recipients (null: off).
  Injection(const ShardContext& ctx, Signing& signing, Store& store, Suppression* suppression, Respond respond)
      : _ctx(ctx), _signing(signing), _store(store), _suppression(suppression), _respond(std::move(respond)) {}

  std::optional<AdminResponse> start(const proto::HttpMessage& req, AdminRequestRef ref, std::string_view client_addr);
  // on_stored: message `index` of the request waiting on `slot` is durable
  // (ok) or failed.
  void on_stored(uint32_t slot, uint32_t index, bool ok);
  size_t waiting() const { return _pending.size(); }

 private:
  struct Pending {
    AdminRequestRef ref;
    std::vector<std::string> queue_ids;      // by message index
    std::vector<std::vector<std::string>> rcpts;  // by message index: its recipients
    std::vector<size_t> counts;                   // by message index: request recipients it stands for
    std::vector<proto::FailedRecipient> failed;
    size_t accepted = 0;     // recipients in messages stored so far
    size_t outstanding = 0;  // messages not yet answered
    std::vector<bool> stored;
  };
  AdminResponse answer(const Pending& p) const;
  void refuse_suppressed(proto::InjectRequest& r);

  const ShardContext& _ctx;
  Signing& _signing;
  Store& _store;
  Suppression* const _suppression;
  Respond _respond;
  absl::flat_hash_map<uint32_t, Pending> _pending;  // by connection slot
};

}  // namespace ringmta

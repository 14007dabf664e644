// engine/outbound/outbound.h — delivery, owner side: the destination queues
// this shard owns (by hash of their key), their routing (fixed host or MX
// through the shard's resolver), their connection pools, and the outbound
// SMTP connections (connect, multishot recv, one send in flight, STARTTLS,
// timeouts). Every job ends in exactly one DeliveryResult sent back to its
// origin shard (DeliveryJob::answer, which ends the job's loan).
//
//   outbound.enqueue(std::move(job));   // from the mesh
//
// Files: outbound.cc (destinations and routing), outbound_connection.cc
// (a connection's life), outbound_tls.cc (STARTTLS).
#pragma once

#include <linux/time_types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "engine/delivery/delivery_job.h"
#include "engine/dns/dns_resolver.h"
#include "engine/dns/mx_route.h"
#include "engine/outbound/destination.h"
#include "engine/runtime/component.h"
#include "engine/runtime/mesh_outbox.h"
#include "engine/runtime/slot_pool.h"
#include "engine/shard_context.h"
#include "engine/tls/tls_context.h"

namespace ringmta {

class Outbound : public Component {
 public:
  Outbound(const ShardContext& ctx, MeshOutbox<ShardMessage>& outbox);
  ~Outbound();
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // enqueue queues a job on its destination (made on first use).
  void enqueue(DeliveryJob&& job);

  void on_completion(const UserData& ud, io_uring_cqe* cqe) override;
  void poll() override;
  int64_t wait_bound_us(int64_t now_ms) const override;
  void on_tick(int64_t now_ms) override;
  bool drained() const override { return _conns.in_use() == 0; }

 private:
  // Destinations and routing (outbound.cc).
  Destination& destination(const DeliveryJob& job);
  void pump(Destination& d);
  void resolve(Destination& d);
  void on_resolved(const std::string& key, const MxRoute& route);
  void fail_queue(Destination& d, Outcome outcome, int code, const std::string& status, const std::string& text);
  void maybe_forget(const std::string& key);
  Resolver& resolver();

  // A connection's life (outbound_connection.cc).
  void open_conn(Destination& d);
  void connect_next(uint32_t slot);
  void on_connect(uint32_t slot, int res);
  void on_recv(uint32_t slot, io_uring_cqe* cqe);
  void on_send(uint32_t slot, int res);
  void arm_recv(uint32_t slot);
  void on_data(uint32_t slot, std::string_view data);
  void drive(uint32_t slot);
  void start_job(uint32_t slot);
  void finish_job(uint32_t slot, proto::TransactionResult&& t);
  void flush(uint32_t slot);
  void shut(uint32_t slot);
  void release(uint32_t slot);
  bool try_next_target(uint32_t slot, Destination& d);

  // STARTTLS (outbound_tls.cc).
  bool start_tls(uint32_t slot);
  TlsContext* tls_client();

  const ShardContext& _ctx;
  MeshOutbox<ShardMessage>& _outbox;
  proto::ClientConfig _client_config;
  absl::flat_hash_map<std::string, std::unique_ptr<Destination>> _dests;
  SlotPool<OutboundConn> _conns;  // the kernel holds pointers into them
  __kernel_timespec _connect_timeout{};
  std::unique_ptr<Resolver> _resolver;  // made on the first MX lookup
  std::unique_ptr<TlsContext> _tls_client;
  bool _tls_client_failed = false;
};

}  // namespace ringmta

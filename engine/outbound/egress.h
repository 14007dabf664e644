// engine/outbound/egress.h — egress sources (a local address to send from,
// with its EHLO name) and pools of them (weighted), and which pool a
// message goes out through: its X-Ringmta-Pool: header, else its sender's
// domain, else the default pool (PowerMTA's virtual MTAs and pools,
// KumoMTA's egress sources and pools).
//
//   [egress.source."ip-1"]  address = "192.0.2.10"  ehlo = "mta1.example.com"
//   [egress.pool."news"]    sources = [{ name = "ip-1", weight = 3 }, ...]
//   [egress]                default_pool = "news"
//                           pool_by_sender_domain = { "news.example.com" = "news" }
//
//   const EgressPool* p = egress.pool_for(env.pool, sender_domain);
//   PoolCursor cursor;  const EgressSource& src = cursor.next(*p, egress);
//
// Without any egress settings there is no pool: mail goes out from the
// host's default address under --hostname, as before.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ringmta {

struct EgressSource {
  std::string name;
  std::string address;  // as configured, for messages
  sockaddr_storage addr{};  // port 0: bind() picks one
  socklen_t len = 0;
  std::string ehlo;  // "" = --hostname
};

struct EgressPool {
  std::string name;
  struct Member {
    size_t source = 0;  // index into Egress::sources
    uint32_t weight = 1;
  };
  std::vector<Member> members;
};

struct Egress {
  std::vector<EgressSource> sources;
  std::vector<EgressPool> pools;
  std::string default_pool;
  std::map<std::string, std::string, std::less<>> pool_by_sender_domain;

  bool empty() const { return pools.empty(); }
  const EgressPool* pool(std::string_view name) const;
  // pool_for: the pool named by the header if there is one, else the
  // sender domain's, else the default; null when neither is configured.
  const EgressPool* pool_for(std::string_view header, std::string_view sender_domain) const;
};

// PoolCursor is one shard's place in each pool's weighted round robin
// (nginx's smooth weighted round robin: weights 3:1 give a a b a, a a b a,
// ..., never a run of all of one source).
class PoolCursor {
 public:
  // next: the source the next message of `pool` (one of egress.pools)
  // goes from.
  const EgressSource& next(const EgressPool& pool, const Egress& egress);

 private:
  std::vector<std::vector<int64_t>> _current;  // by pool (its place in Egress::pools), per member
};

}  // namespace ringmta

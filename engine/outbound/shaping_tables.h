// engine/outbound/shaping_tables.h — the shaping tables in force on one
// shard: the config's, until a SIGHUP hands over freshly read ones. The
// shard owns it; Delivery (grouping jobs for ruled domains) and Outbound
// (sites, limits, backoff) read it, so both switch at the same moment.
//
//   ShapingTables tables(config.shaping, services.shaping_reload);
//   if (tables.take_reload()) { ... limits may have changed ... }
//   tables.current().rule_for("example.com");
#pragma once

#include <atomic>
#include <memory>

#include "engine/outbound/shaping.h"

namespace ringmta {

class ShapingTables {
 public:
  ShapingTables(const Shaping& initial, std::atomic<Shaping*>& reload) : _initial(initial), _reload(reload) {}
  ShapingTables(const ShapingTables&) = delete;
  ShapingTables& operator=(const ShapingTables&) = delete;

  const Shaping& current() const { return _reloaded ? *_reloaded : _initial; }
  // take_reload puts what main() left after a SIGHUP in force; true when
  // there was something. Only the shard's thread calls it.
  bool take_reload() {
    Shaping* fresh = _reload.exchange(nullptr, std::memory_order_acq_rel);
    if (fresh == nullptr) {
      return false;
    }
    _reloaded.reset(fresh);
    return true;
  }

 private:
  const Shaping& _initial;
  std::atomic<Shaping*>& _reload;
  std::unique_ptr<const Shaping> _reloaded;
};

}  // namespace ringmta

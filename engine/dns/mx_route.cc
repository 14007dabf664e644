#include "engine/dns/mx_route.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

const char* mx_status_name(MxStatus status) {
  switch (status) {
    case MxStatus::kOk:
      return "ok";
    case MxStatus::kNullMx:
      return "null-mx";
    case MxStatus::kNoDomain:
      return "no-domain";
    case MxStatus::kNoAddress:
      return "no-address";
    case MxStatus::kTempFail:
      return "temp-fail";
  }
  return "unknown";
}

bool mx_status_is_permanent(MxStatus status) {
  return status == MxStatus::kNullMx || status == MxStatus::kNoDomain ||
         status == MxStatus::kNoAddress;
}

bool is_null_mx(const std::vector<MxRecord>& records) {
  return records.size() == 1 && records[0].preference == 0 && records[0].host.empty();
}

void order_by_preference(std::vector<MxRecord>& records, std::mt19937_64& rng) {
  records.erase(std::remove_if(records.begin(), records.end(),
                               [](const MxRecord& r) { return r.host.empty(); }),
                records.end());
  // Shuffle everything, then a stable sort by preference: within each
  // preference the order stays the shuffled one, which is uniform.
  std::shuffle(records.begin(), records.end(), rng);
  std::stable_sort(records.begin(), records.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.preference < b.preference;
  });
}

void limit_mx_hosts(std::vector<MxRecord>& ordered, size_t max_hosts) {
  absl::flat_hash_set<std::string_view> hosts;
  size_t keep = 0;
  for (; keep < ordered.size(); ++keep) {
    hosts.insert(ordered[keep].host);
    if (hosts.size() > max_hosts) {
      break;
    }
  }
  ordered.resize(keep);
}

MxRoute assemble_route(std::string_view domain, const std::vector<MxRecord>& ordered,
                       bool implicit, const absl::flat_hash_map<std::string, HostAnswer>& hosts) {
  MxRoute route;
  route.implicit = implicit;
  bool temp_failed = false;
  std::string why;
  // A host listed twice (at two preferences) is tried once, at its best.
  absl::flat_hash_set<std::string> seen;
  for (const MxRecord& r : ordered) {
    if (!seen.insert(r.host).second) {
      continue;
    }
    auto it = hosts.find(r.host);
    if (it == hosts.end()) {
      continue;
    }
    const HostAnswer& a = it->second;
    if (a.addresses.empty()) {
      temp_failed = temp_failed || a.temp_failed;
      if (!why.empty()) {
        why += "; ";
      }
      why += a.error.empty() ? absl::StrCat(r.host, ": no address") : a.error;
      continue;
    }
    route.hosts.push_back(MxHost{r.host, r.preference, a.addresses});
  }
  if (!route.hosts.empty()) {
    route.status = MxStatus::kOk;
    return route;
  }
  route.status = temp_failed ? MxStatus::kTempFail : MxStatus::kNoAddress;
  route.error = implicit ? absl::StrCat("no MX for ", av(domain), " and no address for it: ", why)
                         : absl::StrCat("no MX host of ", av(domain), " has an address: ", why);
  return route;
}

}  // namespace ringmta

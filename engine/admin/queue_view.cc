// engine/admin/queue_view.cc — queue lines from the shards' rows (queue_view.h).
#include "engine/admin/queue_view.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/runtime/absl_compat.h"
#include "proto/json_text.h"

namespace ringmta {
namespace {

struct Line {
  std::string queue;
  std::string kind;  // "site" or "domain"
  std::string source;
  std::vector<std::string> domains;
  uint64_t messages = 0;
  uint64_t recipients = 0;
  uint64_t connections = 0;
  int64_t oldest_s = 0;
  int64_t next_retry_s = 0;
  std::string state;
  int64_t until_s = 0;
  std::string reason;
  std::string last_error;
  int64_t last_error_s = 0;
};

void time_field(std::string& out, std::string_view name, int64_t t) {
  absl::StrAppend(&out, ",\"", av(name), "\":");
  if (t == 0) {
    out += "null";
  } else {
    proto::append_json_string(&out, absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t), absl::UTCTimeZone()));
  }
}

void min_time(int64_t& into, int64_t t) {
  if (t != 0 && (into == 0 || t < into)) into = t;
}

}  // namespace

std::string render_queues(const std::vector<AdminCallPtr>& replies, const std::vector<AdminBlock>& blocks,
                          int64_t now_s) {
  std::vector<Line> lines;
  absl::flat_hash_map<std::string, size_t> site_of_domain;  // domain -> first site line serving it
  for (const AdminCallPtr& r : replies) {
    for (const SiteRow& s : r->sites) {
      Line l;
      l.queue = s.site;
      l.kind = "site";
      l.source = s.source;
      l.domains = s.domains;
      l.messages = s.messages;
      l.recipients = s.recipients;
      l.connections = s.connections;
      l.oldest_s = s.oldest_s;
      l.state = s.state;
      l.until_s = s.until_s;
      l.reason = s.reason;
      l.last_error = s.last_error;
      for (const std::string& d : s.domains) site_of_domain.try_emplace(d, lines.size());
      lines.push_back(std::move(l));
    }
  }
  absl::flat_hash_map<std::string, size_t> domain_line;
  for (const AdminCallPtr& r : replies) {
    for (const DomainRow& d : r->domains) {
      size_t at;
      if (auto it = site_of_domain.find(d.domain); it != site_of_domain.end()) {
        at = it->second;
      } else if (auto jt = domain_line.find(d.domain); jt != domain_line.end()) {
        at = jt->second;
      } else {
        at = lines.size();
        domain_line.emplace(d.domain, at);
        Line l;
        l.queue = d.domain;
        l.kind = "domain";
        l.domains = {d.domain};
        l.state = "deferred";
        lines.push_back(std::move(l));
      }
      Line& l = lines[at];
      l.messages += d.messages;
      l.recipients += d.recipients;
      min_time(l.oldest_s, d.oldest_s);
      min_time(l.next_retry_s, d.next_retry_s);
      if (d.last_error_s > l.last_error_s) {
        l.last_error = d.last_error;
        l.last_error_s = d.last_error_s;
      }
    }
  }
  for (Line& l : lines) {
    for (const AdminBlock& b : blocks) {
      if (std::find(l.domains.begin(), l.domains.end(), b.domain) != l.domains.end()) {
        l.state = b.hold ? "held" : "suspended";
        l.until_s = b.hold ? 0 : b.until_s;
        l.reason = b.reason;
        break;
      }
    }
  }
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return a.messages != b.messages ? a.messages > b.messages : a.queue < b.queue;
  });
  std::string out = "{\"queues\":[";
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    if (i) out += ',';
    out += "{\"queue\":";
    proto::append_json_string(&out, l.queue);
    absl::StrAppend(&out, ",\"kind\":\"", l.kind, "\",\"source\":");
    proto::append_json_string(&out, l.source);
    out += ",\"domains\":[";
    for (size_t j = 0; j < l.domains.size(); ++j) {
      if (j) out += ',';
      proto::append_json_string(&out, l.domains[j]);
    }
    absl::StrAppend(&out, "],\"messages\":", l.messages, ",\"recipients\":", l.recipients,
                    ",\"connections\":", l.connections, ",\"oldest_age_s\":",
                    l.oldest_s == 0 ? 0 : std::max<int64_t>(0, now_s - l.oldest_s));
    time_field(out, "oldest", l.oldest_s);
    time_field(out, "next_retry", l.next_retry_s);
    out += ",\"state\":";
    proto::append_json_string(&out, l.state);
    time_field(out, "until", l.until_s);
    out += ",\"reason\":";
    proto::append_json_string(&out, l.reason);
    out += ",\"last_error\":";
    proto::append_json_string(&out, l.last_error);
    time_field(out, "last_error_time", l.last_error_s);
    out += "}";
  }
  out += "]}\n";
  return out;
}

std::string render_blocks(const std::vector<AdminBlock>& blocks) {
  std::string out = "{\"suspensions\":[";
  for (size_t i = 0; i < blocks.size(); ++i) {
    const AdminBlock& b = blocks[i];
    if (i) out += ',';
    out += "{\"domain\":";
    proto::append_json_string(&out, b.domain);
    absl::StrAppend(&out, ",\"kind\":\"", b.hold ? "hold" : "suspend", "\"");
    time_field(out, "until", b.hold ? 0 : b.until_s);
    time_field(out, "since", b.since_s);
    out += ",\"reason\":";
    proto::append_json_string(&out, b.reason);
    out += "}";
  }
  out += "]}\n";
  return out;
}

}  // namespace ringmta

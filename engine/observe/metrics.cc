// engine/observe/metrics.cc — the board, the histogram, and the Prometheus
// text (metrics.h).
#include "engine/observe/metrics.h"

#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta {

void BucketHistogram::observe(double seconds) {
  size_t i = 0;
  while (i < _bounds.size() && seconds > _bounds[i]) {
    ++i;
  }
  ++_counts[i];
  _sum += seconds;
}

void BucketHistogram::add(const BucketHistogram& o) {
  for (size_t i = 0; i < _counts.size() && i < o._counts.size(); ++i) {
    _counts[i] += o._counts[i];
  }
  _sum += o._sum;
}

void MetricsBoard::publish(unsigned shard, std::shared_ptr<const ShardSnapshot> s) {
  Slot& slot = _slots[shard];
  std::shared_ptr<const ShardSnapshot> old;
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    old.swap(slot.snap);
    slot.snap = std::move(s);
  }
  // `old` is freed here, outside the lock.
}

std::vector<std::shared_ptr<const ShardSnapshot>> MetricsBoard::read() const {
  std::vector<std::shared_ptr<const ShardSnapshot>> out;
  for (const Slot& slot : _slots) {
    std::lock_guard<std::mutex> lock(slot.mu);
    if (slot.snap) {
      out.push_back(slot.snap);
    }
  }
  return out;
}

namespace {

// Label values are escaped as the text format asks: backslash, quote, newline.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void head(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  absl::StrAppend(&out, "# HELP ", av(name), " ", av(help), "\n# TYPE ", av(name), " ", av(type), "\n");
}

void histogram(std::string& out, std::string_view name, std::string_view help,
               const std::vector<std::shared_ptr<const ShardSnapshot>>& snaps,
               const BucketHistogram ShardSnapshot::*member, std::span<const double> bounds) {
  head(out, name, "histogram", help);
  // One series per shard: a stalled shard shows as itself, and
  // sum by (le) gives the whole.
  for (const auto& s : snaps) {
    const BucketHistogram& h = (*s).*member;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.counts().size(); ++i) {
      cumulative += h.counts()[i];
      const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
      absl::StrAppend(&out, av(name), "_bucket{shard=\"", s->shard, "\",le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, av(name), "_sum{shard=\"", s->shard, "\"} ", number(h.sum()), "\n");
    absl::StrAppend(&out, av(name), "_count{shard=\"", s->shard, "\"} ", cumulative, "\n");
  }
}

}  // namespace

std::string render_prometheus(const std::vector<std::shared_ptr<const ShardSnapshot>>& snaps,
                              const MetricsExtra& extra) {
  ShardSnapshot t;
  // Views into the snapshots, which outlive this call.
  absl::flat_hash_map<std::string_view, uint64_t> sites;
  for (const auto& s : snaps) {
    t.messages_received += s->messages_received;
    t.connections_in_total += s->connections_in_total;
    t.connections_out_total += s->connections_out_total;
    t.connections_in += s->connections_in;
    t.connections_out += s->connections_out;
    t.memory_content_bytes += s->memory_content_bytes;
    t.deferred_messages += s->deferred_messages;
    if (s->oldest_arrival_s != 0 && (t.oldest_arrival_s == 0 || s->oldest_arrival_s < t.oldest_arrival_s)) {
      t.oldest_arrival_s = s->oldest_arrival_s;
    }
    for (size_t o = 0; o < kOutcomes; ++o) {
      for (size_t c = 0; c < kBounceClassCount; ++c) {
        t.deliveries[o][c] += s->deliveries[o][c];
      }
    }
    t.suppression_refused += s->suppression_refused;
    t.suppression_dropped += s->suppression_dropped;
    t.suppression_added += s->suppression_added;
    t.suppression_add_failures += s->suppression_add_failures;
    for (size_t k = 0; k < t.feedback.size(); ++k) {
      t.feedback[k] += s->feedback[k];
    }
    if (s->sites) {
      for (const SiteDepth& d : *s->sites) {
        sites[d.site] += d.messages;
      }
    }
  }

  std::string out;
  out.reserve(8192);
  head(out, "ringmta_messages_received_total", "counter", "Messages accepted and made durable (SMTP and HTTP).");
  absl::StrAppend(&out, "ringmta_messages_received_total ", t.messages_received, "\n");

  head(out, "ringmta_deliveries_total", "counter",
       "Recipient delivery attempts by outcome and bounce class (tools/bounce-classes.toml).");
  static constexpr const char* kOutcomeNames[kOutcomes] = {"delivered", "deferred", "bounced"};
  for (size_t o = 0; o < kOutcomes; ++o) {
    for (size_t c = 0; c < kBounceClassCount; ++c) {
      // Every outcome shows at least its common class, so that rate()
      // has a series from the start; the others appear once non-zero.
      if (t.deliveries[o][c] == 0 && c != 0) {
        continue;
      }
      absl::StrAppend(&out, "ringmta_deliveries_total{outcome=\"", kOutcomeNames[o], "\",class=\"",
                      av(bounce_class_name(static_cast<BounceClass>(c))), "\"} ", t.deliveries[o][c], "\n");
    }
  }

  head(out, "ringmta_connections_total", "counter", "SMTP connections accepted (in) and opened (out).");
  absl::StrAppend(&out, "ringmta_connections_total{direction=\"in\"} ", t.connections_in_total, "\n");
  absl::StrAppend(&out, "ringmta_connections_total{direction=\"out\"} ", t.connections_out_total, "\n");
  head(out, "ringmta_connections", "gauge", "SMTP connections open now.");
  absl::StrAppend(&out, "ringmta_connections{direction=\"in\"} ", t.connections_in, "\n");
  absl::StrAppend(&out, "ringmta_connections{direction=\"out\"} ", t.connections_out, "\n");

  // The biggest sites by name; the rest in one "other" series, so that a
  // campaign to 100,000 domains does not make 100,000 series.
  std::vector<std::pair<std::string_view, uint64_t>> ranked(sites.begin(), sites.end());
  const size_t top = std::min(extra.top_sites, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(top), ranked.end(),
                    [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  head(out, "ringmta_queue_messages", "gauge",
       "Messages waiting at or being sent to each destination site (top sites; the rest as site=\"other\").");
  uint64_t other = 0;
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (i < top) {
      absl::StrAppend(&out, "ringmta_queue_messages{site=\"", label(ranked[i].first), "\"} ", ranked[i].second, "\n");
    } else {
      other += ranked[i].second;
    }
  }
  absl::StrAppend(&out, "ringmta_queue_messages{site=\"other\"} ", other, "\n");
  head(out, "ringmta_queue_deferred_messages", "gauge", "Messages waiting for their next retry.");
  absl::StrAppend(&out, "ringmta_queue_deferred_messages ", t.deferred_messages, "\n");
  head(out, "ringmta_queue_oldest_seconds", "gauge", "Age of the oldest message not yet delivered or bounced.");
  absl::StrAppend(&out, "ringmta_queue_oldest_seconds ",
                  t.oldest_arrival_s == 0 ? 0 : std::max<int64_t>(0, extra.now_s - t.oldest_arrival_s), "\n");
  head(out, "ringmta_spool_bytes", "gauge", "Bytes of spool segment files on disk.");
  absl::StrAppend(&out, "ringmta_spool_bytes ", extra.spool_bytes, "\n");
  head(out, "ringmta_memory_content_bytes", "gauge", "Message content held in memory (--memory-budget).");
  absl::StrAppend(&out, "ringmta_memory_content_bytes ", t.memory_content_bytes, "\n");

  if (extra.suppression_entries >= 0) {
    head(out, "ringmta_suppression_entries", "gauge", "Addresses and domains on the suppression list.");
    absl::StrAppend(&out, "ringmta_suppression_entries ", extra.suppression_entries, "\n");
    head(out, "ringmta_suppressed_recipients_total", "counter",
         "Recipients the suppression list stopped: refused (RCPT, injection) or dropped before delivery.");
    absl::StrAppend(&out, "ringmta_suppressed_recipients_total{how=\"refused\"} ", t.suppression_refused, "\n");
    absl::StrAppend(&out, "ringmta_suppressed_recipients_total{how=\"dropped\"} ", t.suppression_dropped, "\n");
    head(out, "ringmta_suppression_added_total", "counter",
         "Entries the engine added on its own (hard bounces, returned DSNs, complaints).");
    absl::StrAppend(&out, "ringmta_suppression_added_total ", t.suppression_added, "\n");
    head(out, "ringmta_suppression_failed_total", "counter",
         "Entries the engine tried to add on its own whose commit failed (the log says why).");
    absl::StrAppend(&out, "ringmta_suppression_failed_total ", t.suppression_add_failures, "\n");
    head(out, "ringmta_feedback_total", "counter",
         "What came back to the feedback domains: failed and delayed DSN recipients, complaints, reports no "
         "VERP token vouched for, and mail that was no report.");
    for (size_t k = 0; k < t.feedback.size(); ++k) {
      absl::StrAppend(&out, "ringmta_feedback_total{kind=\"", kFeedbackKinds[k], "\"} ", t.feedback[k], "\n");
    }
  }
  histogram(out, "ringmta_spool_sync_seconds", "Time from a spool batch's write to its durability.", snaps,
            &ShardSnapshot::spool_sync, kSyncBounds);
  histogram(out, "ringmta_delivery_latency_seconds", "Time from arrival to a recipient's final outcome.", snaps,
            &ShardSnapshot::delivery_latency, kDeliveryBounds);
  histogram(out, "ringmta_loop_iteration_seconds", "Busy time of one shard loop iteration.", snaps,
            &ShardSnapshot::loop_iteration, kLoopBounds);
  return out;
}

}  // namespace ringmta

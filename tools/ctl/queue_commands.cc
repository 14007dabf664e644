// tools/ctl/queue_commands.cc — `ringmta-ctl queue | show | flush | suspend
// | resume | suspend-list | hold | release`: the running daemon's queue,
// through its admin API (engine/admin/admin_api.h lists the routes). Each
// prints a table or a sentence, or with --json the API's answer as it is.
#include <cstdio>
#include <string>

#include <simdjson.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/runtime/absl_compat.h"
#include "tools/ctl/admin_client.h"
#include "tools/ctl/command.h"
#include "tools/ctl/commands.h"

namespace ringmta::ctl {
namespace {

using simdjson::dom::element;

// age: 45s, 12m, 3h05m, 2d03h.
std::string age(int64_t s) {
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m");
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, (s % 86400) / 3600);
}

std::string clip(std::string_view s, size_t n) {
  return s.size() <= n ? std::string(s) : absl::StrCat(av(s.substr(0, n - 3)), "...");
}

std::string domain_query(const Flags& f, std::string_view sep = "?") {
  return f.has("domain") ? absl::StrCat(av(sep), "domain=", url_encode(f.get("domain"))) : "";
}

int run_queue(const Command& c, const Flags& f) {
  Answer a;
  const int rc = request(c, f, "GET", "/api/v1/queues" + domain_query(f), &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  simdjson::dom::array queues;
  if (a.doc["queues"].get(queues) != simdjson::SUCCESS) return kExitFailed;
  std::printf("%-34s %-10s %7s %7s %8s %5s  %-26s %s\n", "QUEUE", "SOURCE", "MSGS", "RCPTS", "OLDEST", "CONNS",
              "STATE", "LAST ERROR");
  size_t n = 0;
  for (element q : queues) {
    ++n;
    std::string state(str(q, "state"));
    // The last error with its time of day (UTC), when the origins know it.
    std::string last_error = clip(str(q, "last_error"), 100);
    if (const std::string_view t = str(q, "last_error_time"); t.size() >= 19 && !last_error.empty()) {
      last_error = absl::StrCat(av(t.substr(11, 8)), " ", last_error);
    }
    if (!str(q, "until").empty()) absl::StrAppend(&state, " until ", av(str(q, "until").substr(11, 5)));
    std::printf("%-34s %-10s %7lld %7lld %8s %5lld  %-26s %s\n", clip(str(q, "queue"), 34).c_str(),
                clip(str(q, "source"), 10).c_str(), static_cast<long long>(num(q, "messages")),
                static_cast<long long>(num(q, "recipients")),
                num(q, "messages") ? age(num(q, "oldest_age_s")).c_str() : "-",
                static_cast<long long>(num(q, "connections")), state.c_str(), last_error.c_str());
    simdjson::dom::array domains;
    if (str(q, "kind") == "site" && q["domains"].get(domains) == simdjson::SUCCESS && domains.size() > 0) {
      std::string list;
      for (element d : domains) {
        std::string_view v;
        if (d.get(v) == simdjson::SUCCESS) absl::StrAppend(&list, list.empty() ? "" : ", ", av(v));
      }
      std::printf("%-34s for: %s\n", "", list.c_str());
    }
    if (!str(q, "reason").empty()) {
      std::printf("%-34s reason: %.*s\n", "", static_cast<int>(str(q, "reason").size()), str(q, "reason").data());
    }
  }
  if (n == 0) std::printf("(nothing queued%s)\n", f.has("domain") ? " for that domain" : "");
  return kExitOk;
}

int run_show(const Command& c, const Flags& f) {
  const std::string id = f.has("queue-id") ? f.get("queue-id") : f.get("");
  if (id.empty()) return usage_error(c, "which message? ringmta-ctl show QUEUEID");
  Answer a;
  const int rc = request(c, f, "GET", "/api/v1/messages/" + url_encode(id), &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  element m = a.doc;
  bool in_flight = false;
  if (m["in_flight"].get(in_flight) != simdjson::SUCCESS) in_flight = false;
  std::printf("queue id:   %.*s (shard %lld)\narrival:    %.*s\nin flight:  %s\n", static_cast<int>(id.size()),
              id.data(), static_cast<long long>(num(m, "shard")), static_cast<int>(str(m, "arrival").size()),
              str(m, "arrival").data(), in_flight ? "yes" : "no");
  if (std::string_view s; m["sender"].get(s) == simdjson::SUCCESS) {
    std::printf("sender:     <%.*s>\n", static_cast<int>(s.size()), s.data());
  }
  for (auto [key, label] : {std::pair{"campaign", "campaign:  "}, std::pair{"tenant", "tenant:    "},
                            std::pair{"pool", "pool:      "}, std::pair{"client", "client:    "}}) {
    if (const std::string_view v = str(m, key); !v.empty()) {
      std::printf("%s %.*s\n", label, static_cast<int>(v.size()), v.data());
    }
  }
  if (const int64_t size = num(m, "size"); size > 0) {
    std::printf("size:       %lld bytes\n", static_cast<long long>(size));
  }
  simdjson::dom::array rcpts;
  if (m["recipients"].get(rcpts) == simdjson::SUCCESS) {
    for (element r : rcpts) {
      std::string who(str(r, "address"));
      if (who.empty()) who = absl::StrCat("@", av(str(r, "domain")));
      std::printf("recipient %lld: %s %.*s, %lld attempts", static_cast<long long>(num(r, "index")), who.c_str(),
                  static_cast<int>(str(r, "status").size()), str(r, "status").data(),
                  static_cast<long long>(num(r, "attempts")));
      if (!str(r, "next_retry").empty()) {
        std::printf(", next retry %.*s", static_cast<int>(str(r, "next_retry").size()), str(r, "next_retry").data());
      }
      std::printf("\n");
      if (!str(r, "last_error").empty()) {
        std::printf("  last reply: %.*s\n", static_cast<int>(str(r, "last_error").size()), str(r, "last_error").data());
      }
    }
  }
  return kExitOk;
}

int run_flush(const Command& c, const Flags& f) {
  Answer a;
  const int rc = request(c, f, "POST", "/api/v1/flush" + domain_query(f), &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  std::printf("%lld deferred recipients%s will be retried now\n", static_cast<long long>(num(a.doc, "flushed_recipients")),
              f.has("domain") ? absl::StrCat(" for ", f.get("domain")).c_str() : "");
  return kExitOk;
}

int run_block(const Command& c, const Flags& f, std::string_view what) {
  std::string target = absl::StrCat("/api/v1/", av(what), domain_query(f));
  if (f.has("duration")) absl::StrAppend(&target, "&duration=", url_encode(f.get("duration")));
  if (f.has("reason")) absl::StrAppend(&target, "&reason=", url_encode(f.get("reason")));
  Answer a;
  const int rc = request(c, f, "POST", target, &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  const std::string domain = f.get("domain");
  if (what == "suspend") {
    const absl::Time until = absl::FromUnixSeconds(num(a.doc, "until"));
    std::printf("suspended %s until %s\n", domain.c_str(),
                absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", until, absl::UTCTimeZone()).c_str());
  } else if (what == "resume") {
    std::printf("resumed %s: its deferred mail is retried now\n", domain.c_str());
  } else if (what == "hold") {
    std::printf("holding %s: nothing is sent to it and its mail does not expire until `ringmta-ctl release`\n",
                domain.c_str());
  } else {
    std::printf("released %s: its mail is retried now\n", domain.c_str());
  }
  return kExitOk;
}

int run_bounce(const Command& c, const Flags& f) {
  std::string target = "/api/v1/bounce?";
  int selectors = 0;
  for (auto [flag, param] : {std::pair{"domain", "domain"}, std::pair{"queue-id", "queue_id"},
                             std::pair{"sender", "sender"}, std::pair{"campaign", "campaign"}}) {
    if (f.has(flag)) {
      ++selectors;
      absl::StrAppend(&target, param, "=", url_encode(f.get(flag)));
    }
  }
  if (selectors != 1) {
    return usage_error(c, "say which messages: exactly one of --domain, --queue-id, --sender, --campaign");
  }
  if (f.has("reason")) absl::StrAppend(&target, "&reason=", url_encode(f.get("reason")));
  if (f.has("no-dsn")) target += "&dsn=false";
  Answer a;
  const int rc = request(c, f, "POST", target, &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  if (int64_t n = num(a.doc, "checking"); a.doc["checking"].error() == simdjson::SUCCESS) {
    std::printf("checking %lld messages: those that match are bounced%s as they are read back from the spool\n",
                static_cast<long long>(n), f.has("no-dsn") ? " (no DSN)" : ", with a DSN to their senders,");
  } else {
    std::printf("bouncing %lld messages%s\n", static_cast<long long>(num(a.doc, "bouncing")),
                f.has("no-dsn") ? " (no DSN)" : ", with a DSN to their senders");
  }
  return kExitOk;
}

int run_suspend(const Command& c, const Flags& f) { return run_block(c, f, "suspend"); }
int run_resume(const Command& c, const Flags& f) { return run_block(c, f, "resume"); }
int run_hold(const Command& c, const Flags& f) { return run_block(c, f, "hold"); }
int run_release(const Command& c, const Flags& f) { return run_block(c, f, "release"); }

int run_suspend_list(const Command& c, const Flags& f) {
  Answer a;
  const int rc = request(c, f, "GET", "/api/v1/suspensions", &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  simdjson::dom::array list;
  if (a.doc["suspensions"].get(list) != simdjson::SUCCESS) return kExitFailed;
  std::printf("%-34s %-8s %-21s %-21s %s\n", "DOMAIN", "KIND", "UNTIL", "SINCE", "REASON");
  size_t n = 0;
  for (element b : list) {
    ++n;
    const std::string until = str(b, "until").empty() ? "-" : std::string(str(b, "until"));
    std::printf("%-34s %-8s %-21s %-21s %s\n", clip(str(b, "domain"), 34).c_str(), std::string(str(b, "kind")).c_str(),
                until.c_str(), std::string(str(b, "since")).c_str(), std::string(str(b, "reason")).c_str());
  }
  if (n == 0) std::printf("(no suspensions or holds)\n");
  return kExitOk;
}

constexpr FlagSpec kDomain{"domain", "D", "only mail for this recipient domain"};
constexpr FlagSpec kDomainRequired{"domain", "D", "the recipient domain", true};
constexpr FlagSpec kReason{"reason", "TEXT", "why, for the queue listing and the event log"};

}  // namespace

const Command& queue_command() {
  static const Command c{"", "queue", "what waits, one line per queue (site or domain), most messages first",
                         "Lists the running daemon's queues: messages and recipients, the oldest one's age, open\n"
                         "connections, the state (ready, deferred, suspended until T, throttled, held) and the last\n"
                         "error. A site is the set of MX hosts a domain shares with others (mx_rollup).",
                         {kDomain, kAdminFlag, kTokenFlag, kJsonFlag}, run_queue};
  return c;
}

const Command& show_command() {
  static const Command c{"", "show", "one message: its recipients, their state, attempts, next retry, last reply",
                         "ringmta-ctl show QUEUEID. A deferred message is read back from the spool for it\n"
                         "(ringmta-spool SPOOL QUEUEID prints the content too).",
                         {{"queue-id", "ID", "the message (or give it as the first argument)"}, kAdminFlag, kTokenFlag,
                          kJsonFlag},
                         run_show};
  return c;
}

const Command& flush_command() {
  static const Command c{"", "flush", "retry deferred recipients now (of one domain, or all)", "",
                         {kDomain, kAdminFlag, kTokenFlag, kJsonFlag}, run_flush};
  return c;
}

const Command& suspend_command() {
  static const Command c{"", "suspend", "stop sending to a domain for a while (default 1h); survives a restart",
                         "What is queued for the domain goes back to waiting, held (not a failed attempt), and\n"
                         "is retried when the suspension ends or on `ringmta-ctl resume`.",
                         {kDomainRequired, {"duration", "DURATION", "how long: 90s, 15m, 1h, 2h30m, 1d (default 1h)"},
                          kReason, kAdminFlag, kTokenFlag, kJsonFlag},
                         run_suspend};
  return c;
}

const Command& resume_command() {
  static const Command c{"", "resume", "end a domain's suspension; its mail is retried now", "",
                         {kDomainRequired, kAdminFlag, kTokenFlag, kJsonFlag}, run_resume};
  return c;
}

const Command& suspend_list_command() {
  static const Command c{"", "suspend-list", "the suspensions and holds in force", "",
                         {kAdminFlag, kTokenFlag, kJsonFlag}, run_suspend_list};
  return c;
}

const Command& hold_command() {
  static const Command c{"", "hold", "hold a domain's mail until released: not sent, never expires",
                         "Like postsuper -h: held mail stays in the spool, is not tried and does not expire; it\n"
                         "survives a restart. `ringmta-ctl release` lets it go.",
                         {kDomainRequired, kReason, kAdminFlag, kTokenFlag, kJsonFlag}, run_hold};
  return c;
}

const Command& bounce_command() {
  static const Command c{"", "bounce", "bounce what waits (a domain, a message, a sender, a campaign) now",
                         "An administrative bounce: each selected recipient is bounced with 550 5.0.0, the event\n"
                         "log says \"admin_bounce\", the sender gets a DSN unless --no-dsn, and the spool space is\n"
                         "reclaimed like any final message's. Exactly one of --domain, --queue-id, --sender,\n"
                         "--campaign. A message being sent is bounced once that attempt ends (if it did not\n"
                         "deliver).",
                         {{"domain", "D", "its recipients in this domain"},
                          {"queue-id", "ID", "this message"},
                          {"sender", "S", "every message from this envelope sender"},
                          {"campaign", "C", "every message of this campaign (X-Ringmta-Campaign, campaign_id)"},
                          kReason,
                          {"no-dsn", "", "send no DSN (postsuper -d, but logged)"},
                          kAdminFlag,
                          kTokenFlag,
                          kJsonFlag},
                         run_bounce};
  return c;
}

const Command& release_command() {
  static const Command c{"", "release", "release a held domain; its mail is retried now", "",
                         {kDomainRequired, kAdminFlag, kTokenFlag, kJsonFlag}, run_release};
  return c;
}

}  // namespace ringmta::ctl

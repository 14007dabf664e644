// tools/ctl/suppress_commands.cc — `ringmta-ctl suppress add | remove |
// check | list | import | export`: the running daemon's suppression list,
// through /api/v1/suppressions (engine/admin/admin_api.h). The daemon owns
// the store; these commands never open its files, so they work while it
// runs, from any machine that may reach its admin API.
//
// CSV (import and export): a header row, then one entry per row:
//   address,reason,class,time,tenant,note
//   bob@example.com,bounce,InvalidRecipient,2026-12-04T10:00:00Z,,550 5.1.1 user unknown
//   @example.net,manual,,,,whole domain
// import needs only the address column; without a header row, every row
// is one address (a plain list exported from elsewhere).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/runtime/absl_compat.h"
#include "proto/json_text.h"
#include "tools/ctl/admin_client.h"
#include "tools/ctl/command.h"
#include "tools/ctl/commands.h"
#include "tools/ctl/csv.h"

namespace ringmta::ctl {
namespace {

using simdjson::dom::element;

constexpr std::string_view kColumns[] = {"address", "reason", "class", "time", "tenant", "note"};
// Entries per POST in an import: big enough that a million lines are 100
// requests, small enough that each is answered (committed) in well under
// a second.
constexpr size_t kImportBatch = 10000;

std::string target_of(const Command& c, const Flags& f) {
  std::string t = f.has("address") ? f.get("address") : f.get("");
  if (t.empty()) usage_error(c, "which address? give it as the first argument (bob@example.com, or @example.com)");
  return t;
}

std::string tenant_query(const Flags& f) {
  return f.has("tenant") ? absl::StrCat("?tenant=", url_encode(f.get("tenant"))) : std::string();
}

void append_field(std::string* json, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  absl::StrAppend(json, ",\"", av(key), "\":");
  proto::append_json_string(json, value);
}

int run_add(const Command& c, const Flags& f) {
  const std::string address = target_of(c, f);
  if (address.empty()) return kExitUsage;
  std::string body = "{\"address\":";
  proto::append_json_string(&body, address);
  append_field(&body, "reason", f.get("reason", "manual"));
  append_field(&body, "tenant", f.get("tenant"));
  append_field(&body, "note", f.get("note"));
  body += "}";
  Answer a;
  const int rc = request(c, f, "POST", "/api/v1/suppressions", &a, body);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  std::printf("suppressed %s (%s)%s\n", address.c_str(), f.get("reason", "manual").c_str(),
              f.has("tenant") ? absl::StrCat(" for tenant ", f.get("tenant")).c_str() : "");
  return kExitOk;
}

int run_remove(const Command& c, const Flags& f) {
  const std::string address = target_of(c, f);
  if (address.empty()) return kExitUsage;
  Answer a;
  const int rc =
      request(c, f, "DELETE", absl::StrCat("/api/v1/suppressions/", url_encode(address), tenant_query(f)), &a);
  if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
  std::printf("removed %s: it may be mailed again\n", address.c_str());
  return kExitOk;
}

int run_check(const Command& c, const Flags& f) {
  const std::string address = target_of(c, f);
  if (address.empty()) return kExitUsage;
  AdminClient client(f);
  absl::StatusOr<AdminReply> r =
      client.call("GET", absl::StrCat("/api/v1/suppressions/", url_encode(address), tenant_query(f)));
  if (!r.ok()) {
    std::fprintf(stderr, "ringmta-ctl suppress check: %s\n", std::string(r.status().message()).c_str());
    return kExitFailed;
  }
  if (f.has("json")) std::fputs(r->body.c_str(), stdout);
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(r->body).get(doc) != simdjson::SUCCESS) {
    std::fprintf(stderr, "ringmta-ctl suppress check: the answer (%d) is not JSON\n", r->status);
    return kExitFailed;
  }
  bool suppressed = true;
  if (r->status == 404 && doc["suppressed"].get(suppressed) == simdjson::SUCCESS && !suppressed) {
    if (!f.has("json")) std::printf("%s is not suppressed\n", address.c_str());
    return kExitFailed;  // scripts: 0 means suppressed
  }
  if (r->status != 200) {
    std::fprintf(stderr, "ringmta-ctl suppress check: %d: %s\n", r->status, std::string(str(doc, "error")).c_str());
    return r->status == 400 ? kExitUsage : kExitFailed;
  }
  if (!f.has("json")) {
    element e = doc["entry"];
    std::printf("%s is suppressed: %s\n  entry:  %s%s\n  class:  %s\n", address.c_str(),
                std::string(str(doc, "why")).c_str(), std::string(str(e, "address")).c_str(),
                str(e, "tenant").empty() ? "" : absl::StrCat(" (tenant ", av(str(e, "tenant")), ")").c_str(),
                std::string(str(e, "class")).c_str());
    if (!str(e, "note").empty()) std::printf("  note:   %s\n", std::string(str(e, "note")).c_str());
    if (!str(e, "source").empty()) std::printf("  source: message %s\n", std::string(str(e, "source")).c_str());
  }
  return kExitOk;
}

// each_page calls fn for every entry the list query selects, page by page.
int each_page(const Command& c, const Flags& f, size_t max, const std::function<void(element)>& fn) {
  std::string query;
  for (auto [flag, param] : {std::pair{"reason", "reason"}, std::pair{"since", "since"}, std::pair{"tenant", "tenant"}}) {
    if (f.has(flag)) absl::StrAppend(&query, "&", param, "=", url_encode(f.get(flag)));
  }
  std::string after;
  size_t seen = 0;
  do {
    Answer a;
    const int rc = request(c, f, "GET",
                           absl::StrCat("/api/v1/suppressions?limit=", std::min<size_t>(max - seen, 10000), query,
                                        "&after=", url_encode(after)),
                           &a);
    if (rc != kExitOk) return rc < 0 ? kExitOk : rc;
    simdjson::dom::array entries;
    if (a.doc["entries"].get(entries) != simdjson::SUCCESS) return kExitFailed;
    for (element e : entries) {
      fn(e);
      ++seen;
    }
    after = std::string(str(a.doc, "next"));
  } while (!after.empty() && seen < max);
  return kExitOk;
}

int run_list(const Command& c, const Flags& f) {
  size_t limit = 100;
  if (f.has("limit") && !absl::SimpleAtoi(f.get("limit"), &limit)) {
    return usage_error(c, "--limit: expected a number");
  }
  std::printf("%-40s %-11s %-18s %-20s %-12s %s\n", "ADDRESS", "REASON", "CLASS", "SINCE", "TENANT", "NOTE");
  size_t n = 0;
  const int rc = each_page(c, f, limit, [&n](element e) {
    ++n;
    std::printf("%-40s %-11s %-18s %-20s %-12s %s\n", std::string(str(e, "address")).c_str(),
                std::string(str(e, "reason")).c_str(), std::string(str(e, "class")).c_str(),
                std::string(str(e, "time")).c_str(), std::string(str(e, "tenant")).c_str(),
                std::string(str(e, "note")).substr(0, 60).c_str());
  });
  if (rc == kExitOk && n == 0) std::printf("(no entries)\n");
  if (rc == kExitOk && n == limit) std::printf("(first %zu shown: --limit N for more, or `suppress export`)\n", n);
  return rc;
}

int run_export(const Command& c, const Flags& f) {
  std::string out;
  append_csv_row(&out, {kColumns[0], kColumns[1], kColumns[2], kColumns[3], kColumns[4], kColumns[5]});
  std::FILE* file = stdout;
  if (f.has("out")) {
    file = std::fopen(f.get("out").c_str(), "w");
    if (file == nullptr) return usage_error(c, absl::StrCat("--out ", f.get("out"), ": ", std::strerror(errno)));
  }
  size_t n = 0;
  const int rc = each_page(c, f, SIZE_MAX, [&](element e) {
    append_csv_row(&out, {str(e, "address"), str(e, "reason"), str(e, "class"), str(e, "time"), str(e, "tenant"),
                          str(e, "note")});
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), file);
      out.clear();
    }
    ++n;
  });
  std::fwrite(out.data(), 1, out.size(), file);
  if (file != stdout) std::fclose(file);
  if (rc == kExitOk) std::fprintf(stderr, "exported %zu entries\n", n);
  return rc;
}

int run_import(const Command& c, const Flags& f) {
  const std::string path = f.has("file") ? f.get("file") : f.get("");
  if (path.empty()) return usage_error(c, "which file? ringmta-ctl suppress import FILE.csv");
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage_error(c, absl::StrCat(path, ": ", std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string_view text = ss.view();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a spreadsheet's UTF-8 byte order mark
  CsvReader reader(text);
  std::vector<std::string> row;
  // Columns by header name; without a header, the first column is the address.
  int col[6] = {0, -1, -1, -1, -1, -1};
  bool first = true;
  std::string batch;
  size_t in_batch = 0, sent = 0, total_rows = 0;
  size_t batch_line = 0;  // the line where the batch being filled began
  const std::string reason = f.get("reason", "manual");
  auto flush = [&]() -> int {
    if (in_batch == 0) return kExitOk;
    batch += "]";
    Answer a;
    Flags quiet;
    for (const char* k : {"admin", "token"}) {
      if (f.has(k)) quiet.add(k, f.get(k));
    }
    const int rc = request(c, quiet, "POST", "/api/v1/suppressions", &a, batch);
    if (rc != kExitOk) {
      std::fprintf(stderr, "\n%s: the %zu entries before line %zu are imported, none from line %zu on (the batch "
                   "there was refused whole: its \"entry N\" counts rows with an address from line %zu); fix it and "
                   "import the rest again\n", path.c_str(), sent, batch_line, batch_line, batch_line);
      return rc;
    }
    sent += in_batch;
    std::fprintf(stderr, "\rimported %zu entries", sent);
    batch.clear();
    in_batch = 0;
    return kExitOk;
  };
  while (reader.next(&row)) {
    ++total_rows;
    if (first) {
      first = false;
      bool header = false;
      for (const std::string& f : row) {
        header = header || absl::AsciiStrToLower(absl::StripAsciiWhitespace(f)) == "address";
      }
      if (header) {
        col[0] = -1;
        for (int i = 1; i < 6; ++i) col[i] = -1;
        for (size_t j = 0; j < row.size(); ++j) {
          const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(row[j]));
          int k = -1;
          for (int i = 0; i < 6; ++i) {
            if (name == kColumns[i]) k = i;
          }
          if (k < 0) {
            return usage_error(c, absl::StrCat(path, ": line 1: unknown column '", name,
                                               "' (expected address, reason, class, time, tenant, note)"));
          }
          col[k] = static_cast<int>(j);
        }
        continue;
      }
    }
    auto field = [&](int k) -> std::string {
      return col[k] >= 0 && static_cast<size_t>(col[k]) < row.size()
                 ? std::string(absl::StripAsciiWhitespace(row[col[k]]))
                 : std::string();
    };
    const std::string address = field(0);
    if (address.empty()) continue;
    if (in_batch == 0) batch_line = reader.line();
    batch += in_batch == 0 ? "[" : ",";
    batch += "{\"address\":";
    proto::append_json_string(&batch, address);
    const std::string r = field(1);
    append_field(&batch, "reason", r.empty() ? reason : r);
    append_field(&batch, "class", field(2));
    append_field(&batch, "time", field(3));
    append_field(&batch, "tenant", field(4).empty() ? f.get("tenant") : field(4));
    append_field(&batch, "note", field(5));
    batch += "}";
    if (++in_batch == kImportBatch) {
      if (int rc = flush(); rc != kExitOk) return rc;
    }
  }
  if (!reader.error().empty()) {
    std::fprintf(stderr, "%s%s: %s: the %zu entries before line %zu are imported, none after (fix the file and "
                 "import it again: entries already there are replaced)\n", sent ? "\n" : "", path.c_str(),
                 reader.error().c_str(), sent, in_batch ? batch_line : reader.line());
    return kExitUsage;
  }
  if (int rc = flush(); rc != kExitOk) return rc;
  std::fprintf(stderr, "%simported %zu entries from %s\n", sent ? "\n" : "", sent, path.c_str());
  return kExitOk;
}

constexpr FlagSpec kTenant{"tenant", "T", "an entry for this tenant's mail only (X-Ringmta-Tenant)"};

}  // namespace

const Command& suppress_add_command() {
  static const Command c{"suppress", "add", "never mail an address (or @domain) again",
                         "Adds ADDR (local@domain) or @DOMAIN to the suppression list: RCPT TO it gets\n"
                         "550 5.7.1 (or, with suppression.mode = \"drop\", it is accepted and dropped), and\n"
                         "mail already queued for it is not delivered. Answered once the entry is durable.",
                         {{"reason", "R", "bounce, complaint, unsubscribe or manual (default manual)"}, kTenant,
                          {"note", "TEXT", "why, for whoever looks later"}, kAdminFlag, kTokenFlag, kJsonFlag},
                         run_add};
  return c;
}

const Command& suppress_remove_command() {
  static const Command c{"suppress", "remove", "take an address (or @domain) off the list", "",
                         {kTenant, kAdminFlag, kTokenFlag, kJsonFlag}, run_remove};
  return c;
}

const Command& suppress_check_command() {
  static const Command c{"suppress", "check", "whether an address is suppressed, and why (exit 0: it is)",
                         "Says which entry suppresses ADDR (its own, or its domain's) with its reason, class,\n"
                         "time and note. With --tenant, entries for that tenant count too. Exit status 0 when\n"
                         "suppressed, 1 when not.",
                         {kTenant, kAdminFlag, kTokenFlag, kJsonFlag}, run_check};
  return c;
}

const Command& suppress_list_command() {
  static const Command c{"suppress", "list", "the entries in address order (filter by reason, time, tenant)", "",
                         {{"reason", "R", "only bounce, complaint, unsubscribe or manual"},
                          {"since", "DATE", "only entries added since (2026-12-04 or RFC 3339)"}, kTenant,
                          {"limit", "N", "show at most N (default 100)"}, kAdminFlag, kTokenFlag},
                         run_list};
  return c;
}

const Command& suppress_import_command() {
  static const Command c{"suppress", "import", "add every address of a CSV file (header: address,reason,...)",
                         "Reads FILE (CSV, RFC 4180; a header row names the columns address, reason, class,\n"
                         "time, tenant, note — only address is needed — or, without one, an address per row)\n"
                         "and adds its entries in batches of 10,000, each answered once durable. An entry\n"
                         "already on the list is replaced. Progress goes to stderr.",
                         {{"reason", "R", "reason of rows without one (default manual)"},
                          {"tenant", "T", "tenant of rows without one (default: every tenant)"}, kAdminFlag,
                          kTokenFlag},
                         run_import};
  return c;
}

const Command& suppress_export_command() {
  static const Command c{"suppress", "export", "every entry as CSV (what import reads)", "",
                         {{"out", "FILE", "write to FILE instead of standard output"},
                          {"reason", "R", "only this reason"}, {"since", "DATE", "only entries added since"},
                          kTenant, kAdminFlag, kTokenFlag},
                         run_export};
  return c;
}

}  // namespace ringmta::ctl

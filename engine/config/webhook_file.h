// engine/config/webhook_file.h — reading the [[webhook]] tables of the config
// file: where the event log's lines are POSTed, which of them, in batches
// of how many, after how long at most (engine/observe/webhook_shipper.h
// ships them). Called by parse_config; an error names the file, the entry
// and the key, and makes ringmta exit 2.
//
//   absl::StatusOr<std::vector<Webhook>> hooks = load_webhooks(config_file);  // empty without [[webhook]]
//
//   [[webhook]]
//   url = "http://127.0.0.1:9000/events"
//   events = ["delivered", "bounced"]
//   batch_size = 100
//   max_delay = "1s"
//   headers = { Authorization = "Bearer x" }
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ringmta {

// kWebhookEventTypes: the event log's "type"s a webhook may ship
// ("shaping" covers every shaping action and its end).
inline constexpr std::string_view kWebhookEventTypes[] = {"delivered", "deferred", "bounced", "shaping",
                                                          "admin_bounce"};

struct Webhook {
  std::string url;                 // as written
  std::string host;                // the Host: header, "host:port" as written in the url
  std::string target;              // "/events" (a query kept)
  sockaddr_storage addr{};         // the receiver, resolved when the config is read
  socklen_t addr_len = 0;
  std::vector<std::string> events;  // types shipped; all of kWebhookEventTypes by default
  uint64_t batch_size = 100;        // events per POST, at most
  int64_t max_delay_ms = 1000;      // a partial batch goes after this long
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  // offset_file: where the shipped-and-acknowledged offset is kept, under
  // the spool directory: "webhook-<16 hex digits of FNV-1a 64 of the url>.offset",
  // so that reordering or removing entries never hands one receiver
  // another's offset.
  std::string offset_file;

  // ships: is an event of this type for this webhook?
  bool ships(std::string_view type) const;
};

// load_webhooks reads every [[webhook]] of config_file ("" or none: empty).
absl::StatusOr<std::vector<Webhook>> load_webhooks(const std::string& config_file);

// parse_webhook_url checks "http://HOST[:PORT][/PATH]" (HOST an IP address,
// [IPv6], or a name resolved here with getaddrinfo) and fills url, host,
// target and addr. "where" prefixes an error.
absl::Status parse_webhook_url(std::string_view url, std::string_view where, Webhook* out);

// parse_short_duration reads "500ms", "2s", "1m", "1h" or a plain number of
// seconds; 0 < result <= 1 hour.
bool parse_short_duration(std::string_view text, int64_t* out_ms);

}  // namespace ringmta

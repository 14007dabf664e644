// engine/config/config.h — the daemon's settings: embedded defaults, then the TOML
// file (--config), then command-line flags, each overriding the one before.
//
//   auto parsed = parse_config(argc, argv);
//   if (!parsed.ok()) { print parsed.status().message(); exit(2); }
//   if (parsed->exit_now) { exit(0); }              // --help, --version, --check-config
//
// Every setting has exactly one entry in the table in option_table.cc, which
// gives its flag, its TOML key, its default and its help text; --help and
// the README are generated from the same words.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/config/webhook_file.h"
#include "engine/delivery/bounce_class.h"
#include "engine/inbound/cidr.h"
#include "engine/outbound/egress.h"
#include "engine/outbound/shaping.h"
#include "engine/runtime/log.h"
#include "proto/client_session.h"

namespace ringmta {

class BounceClassifier;  // engine/delivery/bounce_class.h
class DkimSigners;       // engine/dkim/dkim_signers.h

struct Config {
  std::vector<std::string> listen = {"127.0.0.1:2525", "[::1]:2525"};
  bool listen_is_default = true;  // a default address that cannot bind is only a warning
  std::vector<std::string> listen_tls;  // implicit TLS (RFC 8314, port 465 style)
  // The HTTP admin and injection API (engine/admin/): its addresses (none:
  // off), TLS with tls_cert, the largest request body, who may use it
  // without a token, and the file of bearer tokens for everyone else.
  std::vector<std::string> admin_listen = {"127.0.0.1:8025"};
  bool admin_listen_is_default = true;
  bool admin_tls = false;
  uint64_t admin_max_body = 64ull << 20;
  std::vector<Cidr> admin_trusted_networks;  // filled with the defaults by parse_config
  std::string admin_tokens_file;
  std::string tls_cert;  // PEM chain, leaf first; enables STARTTLS
  std::string tls_key;
  std::string auth_users;        // "user:crypt-hash" lines; "" = no AUTH
  bool auth_require_tls = true;  // AUTH only under TLS
  bool auth_required = false;    // outside relay_networks, MAIL needs AUTH
  std::string user = "ringmta";  // drop to it when started as root
  std::string spool_dir = "./ringmta-spool";
  unsigned shards = 0;  // 0: one per CPU this process may run on
  std::string hostname;  // empty: gethostname()
  LogLevel log_level = LogLevel::kInfo;
  std::vector<Cidr> relay_networks;  // filled with the defaults by parse_config
  bool allow_open_relay = false;
  std::string postmaster;  // where RCPT TO:<postmaster> goes; "" = refused (proto/server_session.h)     // a wide relay network is refused without it (validate.cc)
  std::vector<std::string> local_domains;
  uint64_t max_message_size = 50ull << 20;
  uint64_t max_recipients = 1000;
  uint64_t max_errors = 20;
  uint64_t max_command_line = 512;
  uint64_t max_text_line = 1000;
  uint64_t max_connections = 4096;  // per shard
  uint64_t timeout_command_s = 300;  // RFC 5321 4.5.3.2.7
  uint64_t timeout_data_s = 300;
  uint64_t min_data_rate = 500;          // bytes/s (Postfix smtpd_min_data_rate)
  uint64_t max_session_time_s = 3600;
  uint64_t max_junk_commands = 100;      // Postfix smtpd_junk_command_limit
  uint64_t max_connections_per_ip = 50;  // Postfix smtpd_client_connection_count_limit
  uint64_t max_connect_rate = 50;        // per second per IP
  uint64_t max_auth_failures = 10;       // per minute per IP
  uint64_t shutdown_grace_s = 5;
  uint64_t segment_size = 256ull << 20;
  // Message content a shard keeps in memory for first attempts; past it,
  // new messages too are read back from the spool (engine/store/content_loader.h).
  uint64_t memory_budget = 256ull << 20;

  // Delivery.
  bool hold = false;         // spool only; deliver nothing (a hold queue)
  std::vector<std::pair<std::string, std::string>> routes;  // lower-case domain -> HOST:PORT[/TLS]
  std::string outbound_tls = "opportunistic";  // off | opportunistic | required
  std::string relay_host;    // HOST:PORT for every domain without a route; "" = DNS
  uint64_t mx_port = 25;     // port for hosts found through DNS
  std::string resolver;      // "IP:PORT[,IP:PORT]"; "" = /etc/resolv.conf
  uint64_t retry_min_s = 300;     // first retry after a deferral (Postfix minimal_backoff_time)
  uint64_t retry_max_s = 4000;    // backoff doubles up to this (maximal_backoff_time)
  uint64_t queue_lifetime_s = 5 * 86400;  // then bounce (maximal_queue_lifetime)
  std::string event_log;     // JSON lines file; "" = none
  // Bounce classes (engine/delivery/bounce_class.h): the rules file, ""
  // = the shipped tools/bounce-classes.toml built into the binary. The
  // rules are compiled once, by parse_config, and this one classifier is
  // shared read-only by every shard: matching a const RE2::Set is
  // thread-safe, and only failures are matched (a few per second per
  // shard, not each delivery), so a per-shard copy would buy nothing but
  // N compilations and N DFA caches.
  std::string bounce_classes_file;
  std::shared_ptr<const BounceClassifier> bounce_classifier;
  uint64_t dest_connections = 20;     // per destination (Postfix default_destination_concurrency_limit)
  uint64_t messages_per_connection = 1000;
  uint64_t connect_timeout_s = 30;
  uint64_t smtp_timeout_s = 300;      // per reply (RFC 5321 4.5.3.2), 600 after the end of data

  // Traffic shaping (engine/outbound/shaping.h): the tables of the config
  // file, or of shaping_file (read again on SIGHUP).
  std::string config_file;   // --config, "" = none
  std::string shaping_file;
  Shaping shaping;
  Egress egress;  // [egress]: sources and pools; empty = the host's default address

  // DKIM (engine/dkim/): the [[dkim]] tables of the config file with their
  // keys, read by parse_config as root (null: nothing is signed), and the
  // signing threads (0: one per shard).
  std::shared_ptr<const DkimSigners> dkim;
  uint64_t signing_threads = 0;
  // Webhooks (engine/observe/webhook_shipper.h): the [[webhook]] tables of
  // the config file; shard 0 POSTs the event log's lines to each.
  std::vector<Webhook> webhooks;
  // Refuse (550 5.7.1) a message without List-Unsubscribe and
  // List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).
  bool require_list_unsubscribe = false;
  // Suppression (engine/suppression/): the list of addresses and domains
  // never mailed, in an LMDB store (dir "" = SPOOL/suppression). drop:
  // suppressed recipients are accepted and dropped with an event instead
  // of refused at RCPT. auto: a final bounce of one of auto_classes adds
  // its recipient.
  bool suppression = true;
  std::string suppression_dir;
  uint64_t suppression_max_size = 8ull << 30;
  bool suppression_drop = false;
  bool suppression_auto = true;
  std::vector<BounceClass> suppression_auto_classes = {BounceClass::kInvalidRecipient, BounceClass::kBadDomain,
                                                        BounceClass::kInactiveMailbox};
  // Feedback (engine/suppression/feedback.h): mail to these domains is
  // read as returned DSNs and complaints instead of relayed; verp: the
  // envelope sender of outgoing mail becomes PREFIX+TOKEN@VERP_DOMAIN
  // (proto/verp.h), keyed with the secret in key_file (made at the first
  // start; "" = SPOOL/feedback.key), which main reads into feedback_key.
  std::vector<std::string> feedback_domains;  // lower case
  bool feedback_verp = false;
  std::string feedback_verp_domain;  // "" = the first of feedback_domains
  std::string feedback_verp_prefix = "bounces";
  std::string feedback_key_file;
  std::string feedback_key;
  // Local submission (engine/inbound/pickup.h): the maildrop directory
  // ringmta-sendmail and the Postfix queue import leave message files in,
  // picked up within a second ("" = no pickup; default SPOOL/maildrop);
  // and the HOST:PORT ringmta-sendmail submits to (read by it from the same
  // file; the daemon only checks its form).
  std::string maildrop_dir;
  bool maildrop_is_default = true;
  std::string submit_server = "127.0.0.1:2525";
  // site_defaults: the limits of a queue no shaping table names (the
  // delivery flags above).
  SiteLimits site_defaults() const {
    SiteLimits l;
    l.connection_limit = dest_connections;
    l.max_deliveries_per_connection = messages_per_connection;
    return l;
  }
};

struct ParsedConfig {
  Config config;
  bool exit_now = false;  // --help, --version or --check-config's verdict was printed
};

absl::StatusOr<ParsedConfig> parse_config(int argc, char** argv);

// parse_tls_policy reads off|opportunistic|required; out may be null.
bool parse_tls_policy(std::string_view text, proto::TlsPolicy* out);

// help_text is what --help prints.
std::string help_text();

}  // namespace ringmta

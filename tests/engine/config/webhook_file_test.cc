// tests/engine/config/webhook_file_test.cc — the [[webhook]] tables
// (engine/config/webhook_file.h) and the checks parse_config makes of them.
#include "engine/config/webhook_file.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace ringmta {
namespace {

std::string write_file(const std::string& text) {
  char path[] = "/tmp/ringmta-webhook-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

absl::StatusOr<std::vector<Webhook>> load(const std::string& text) {
  const std::string path = write_file(text);
  auto r = load_webhooks(path);
  std::remove(path.c_str());
  return r;
}

void expect_error(const std::string& text, const std::string& part) {
  auto r = load(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status();
}

TEST(WebhookFile, EveryKey) {
  auto r = load(
      "[[webhook]]\n"
      "url = \"http://127.0.0.1:9000/events?x=1\"\n"
      "events = [\"delivered\", \"bounced\", \"shaping\"]\n"
      "batch_size = 50\n"
      "max_delay = \"500ms\"\n"
      "headers = {Authorization = \"Bearer x\", X-Tenant = \"t1\"}\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  const Webhook& w = (*r)[0];
  EXPECT_EQ(w.url, "http://127.0.0.1:9000/events?x=1");
  EXPECT_EQ(w.host, "127.0.0.1:9000");
  EXPECT_EQ(w.target, "/events?x=1");
  ASSERT_EQ(w.addr.ss_family, AF_INET);
  const auto* in = reinterpret_cast<const sockaddr_in*>(&w.addr);
  EXPECT_EQ(ntohs(in->sin_port), 9000);
  EXPECT_EQ(in->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  EXPECT_EQ(w.events, (std::vector<std::string>{"delivered", "bounced", "shaping"}));
  EXPECT_TRUE(w.ships("bounced"));
  EXPECT_FALSE(w.ships("deferred"));
  EXPECT_EQ(w.batch_size, 50u);
  EXPECT_EQ(w.max_delay_ms, 500);
  ASSERT_EQ(w.headers.size(), 2u);
  EXPECT_EQ(w.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer x"}));
  EXPECT_EQ(w.offset_file.size(), std::string("webhook-0123456789abcdef.offset").size());
  EXPECT_TRUE(w.offset_file.starts_with("webhook-")) << w.offset_file;
}

TEST(WebhookFile, DefaultsAndSeveral) {
  auto r = load(
      "[[webhook]]\nurl = \"http://[::1]:8080\"\n"
      "[[webhook]]\nurl = \"http://localhost/hook\"\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  const Webhook& a = (*r)[0];
  EXPECT_EQ(a.target, "/");
  EXPECT_EQ(a.host, "[::1]:8080");
  ASSERT_EQ(a.addr.ss_family, AF_INET6);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_port), 8080);
  EXPECT_EQ(a.batch_size, 100u);
  EXPECT_EQ(a.max_delay_ms, 1000);
  EXPECT_EQ(a.events.size(), std::size(kWebhookEventTypes));
  const Webhook& b = (*r)[1];
  EXPECT_EQ(b.host, "localhost");
  EXPECT_EQ(b.target, "/hook");
  EXPECT_NE(b.addr_len, 0u);  // resolved when read
  EXPECT_NE(a.offset_file, b.offset_file);
}

TEST(WebhookFile, NoneWithoutTables) {
  auto r = load("[server]\nshards = 1\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
  r = load_webhooks("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(WebhookFile, ErrorsNameTheEntryAndKey) {
  expect_error("[[webhook]]\nurl = \"https://x.example/e\"\n", "webhook[1].url");
  expect_error("[[webhook]]\nurl = \"https://x.example/e\"\n", "https is not yet supported");
  expect_error("[[webhook]]\nurl = \"ftp://x/e\"\n", "expected http://HOST:PORT/PATH");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1:0/\"\n", "port from 1 to 65535");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1:99999/\"\n", "port from 1 to 65535");
  expect_error("[[webhook]]\nurl = \"http://u:p@127.0.0.1/\"\n", "headers");
  expect_error("[[webhook]]\nurl = \"http://bad_host!/\"\n", "neither an IP address nor a host name");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/a b\"\n", "space");
  expect_error("[[webhook]]\nevents = [\"delivered\"]\n", "webhook[1]: needs url");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\n[[webhook]]\nurl = \"http://127.0.0.1/\"\nbatch_size = 0\n",
               "webhook[2].batch_size");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nevents = [\"delivered\", \"opened\"]\n",
               "webhook[1].events: expected event types among \"delivered\"");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nevents = []\n", "non-empty");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nmax_delay = \"5x\"\n", "webhook[1].max_delay");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nheaders = {Host = \"x\"}\n",
               "webhook[1].headers.Host: set by the webhook client itself");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nheaders = {\"a b\" = \"x\"}\n", "not an HTTP header");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\nretries = 3\n", "webhook[1].retries: unknown key");
  expect_error("[[webhook]]\nurl = \"http://127.0.0.1/\"\n[[webhook]]\nurl = \"http://127.0.0.1/\"\n",
               "webhook[2].url: webhook[1] has the same url");
  expect_error("webhook = 3\n", "expected [[webhook]] tables");
}

TEST(WebhookFile, ShortDurations) {
  int64_t ms = 0;
  EXPECT_TRUE(parse_short_duration("500ms", &ms));
  EXPECT_EQ(ms, 500);
  EXPECT_TRUE(parse_short_duration("2s", &ms));
  EXPECT_EQ(ms, 2000);
  EXPECT_TRUE(parse_short_duration("1m", &ms));
  EXPECT_EQ(ms, 60'000);
  EXPECT_TRUE(parse_short_duration("3", &ms));
  EXPECT_EQ(ms, 3000);
  EXPECT_TRUE(parse_short_duration("1h", &ms));
  EXPECT_FALSE(parse_short_duration("2h", &ms));
  EXPECT_FALSE(parse_short_duration("0s", &ms));
  EXPECT_FALSE(parse_short_duration("s", &ms));
  EXPECT_FALSE(parse_short_duration("1.5s", &ms));
  EXPECT_FALSE(parse_short_duration("-1s", &ms));
}

absl::StatusOr<ParsedConfig> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ringmta");
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

TEST(WebhookFile, ParseConfigNeedsTheEventLog) {
  const std::string path = write_file("[[webhook]]\nurl = \"http://127.0.0.1:9000/events\"\n");
  auto c = parse({"--config", path});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("set --event-log FILE"), std::string::npos) << c.status();
  c = parse({"--config", path, "--event-log", "/tmp/events.log"});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->config.webhooks.size(), 1u);
  EXPECT_EQ(c->config.webhooks[0].target, "/events");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ringmta

// bench/proto_benchmark.cc — throughput of proto/'s hot paths: command
// parsing, DATA decoding, a whole ServerSession transaction, and a
// ClientSession transaction (pipelined, over an established connection).
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "proto/client_session.h"
#include "proto/command.h"
#include "proto/data_decoder.h"
#include "proto/server_session.h"

namespace ringmta::proto {
namespace {

// A body of about `size` octets of 76-column text; every 10th line starts
// with a dot, so it is stuffed on the wire.
std::string wire_body(size_t size) {
  std::string body = "From: sender@client.example\r\nTo: rcpt@example.test\r\n"
                     "Subject: benchmark\r\n\r\n";
  size_t line = 0;
  while (body.size() < size) {
    if (line++ % 10 == 0) {
      body += "..";
    }
    body += std::string(74, static_cast<char>('a' + line % 26));
    body += "\r\n";
  }
  return body;
}

std::string transaction(size_t body_size) {
  return "EHLO client.example\r\n"
         "MAIL FROM:<sender@client.example> SIZE=" + std::to_string(body_size) + "\r\n"
         "RCPT TO:<alice@example.test>\r\n"
         "RCPT TO:<bob@example.test>\r\n"
         "DATA\r\n" + wire_body(body_size) + ".\r\nQUIT\r\n";
}

void BM_CommandParse(benchmark::State& state) {
  const std::string commands =
      "EHLO client.example\r\nMAIL FROM:<sender@client.example> SIZE=1024 BODY=8BITMIME\r\n"
      "RCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
      "RCPT TO:<\"quoted local\"@example.test>\r\nRCPT TO:<carol@[192.0.2.1]>\r\n"
      "DATA\r\nBDAT 1000 LAST\r\nRSET\r\nNOOP\r\nQUIT\r\n";
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < commands.size();) {
    size_t end = commands.find("\r\n", pos);
    lines.push_back(std::string_view(commands).substr(pos, end - pos));
    pos = end + 2;
  }
  for (auto _ : state) {
    for (std::string_view line : lines) {
      Command c = parse_command(line);
      if (c.verb == Verb::kMail) {
        MailArgs m;
        benchmark::DoNotOptimize(parse_mail_args(c.arg, &m));
      } else if (c.verb == Verb::kRcpt) {
        RcptArgs r;
        benchmark::DoNotOptimize(parse_rcpt_args(c.arg, false, &r));
      } else if (c.verb == Verb::kBdat) {
        BdatArgs b;
        benchmark::DoNotOptimize(parse_bdat_args(c.arg, &b));
      }
      benchmark::DoNotOptimize(c);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * commands.size()));
}
BENCHMARK(BM_CommandParse);

void BM_DataDecode(benchmark::State& state) {
  const std::string wire = wire_body(static_cast<size_t>(state.range(0))) + ".\r\n";
  BodyDecoder decoder(BodyDecoder::Mode::kData, 50 << 20, 1000);
  std::string body;
  body.reserve(wire.size());
  for (auto _ : state) {
    decoder.reset(BodyDecoder::Mode::kData);
    body.clear();
    benchmark::DoNotOptimize(decoder.consume(wire, &body));
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(BM_DataDecode)->Arg(1024)->Arg(100 * 1024);

void BM_SessionTransaction(benchmark::State& state) {
  SessionConfig config;
  config.hostname = "mx.bench.example";
  config.local_domains.insert("example.test");
  config.new_queue_id = [] { return std::string("4ZzBench0001"); };
  const absl::Time now = absl::Now();
  config.clock = [now] { return now; };
  const std::string input = transaction(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    ServerSession session(config, {.addr = "192.0.2.1"});
    session.start();
    std::string_view rest = input;
    while (!rest.empty() && !session.closing()) {
      rest.remove_prefix(session.consume(rest));
      if (session.message_ready()) {
        CompletedMessage m = session.take_message();
        benchmark::DoNotOptimize(m.body.data());
        session.on_stored();
      }
    }
    benchmark::DoNotOptimize(session.output().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_SessionTransaction)->Arg(1024)->Arg(100 * 1024);

// BM_ClientTransaction: one pipelined message to two recipients on a
// connection that stays up (the engine's steady state), DATA (dot-stuffing)
// or BDAT; bytes are the content octets.
void BM_ClientTransaction(benchmark::State& state) {
  ClientConfig config;
  config.helo_name = "client.bench.example";
  config.use_chunking = state.range(1) != 0;
  const std::string body = wire_body(static_cast<size_t>(state.range(0)));
  const std::string replies = config.use_chunking
      ? "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued\r\n"
      : "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"
        "250 2.0.0 Ok: queued\r\n";
  ClientSession session(config);
  session.consume(
      "220 mx.test ESMTP\r\n250-mx.test\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n"
      "250-8BITMIME\r\n250-CHUNKING\r\n250 ENHANCEDSTATUSCODES\r\n");
  OutboundMessage message;
  message.sender = "sender@client.example";
  message.recipients = {"alice@example.test", "bob@example.test"};
  message.body = body;
  for (auto _ : state) {
    session.output().clear();
    session.send_message(message);
    std::string_view rest = replies;
    while (!rest.empty()) {
      rest.remove_prefix(session.consume(rest));
    }
    TransactionResult result = session.take_result();
    benchmark::DoNotOptimize(result.recipients.data());
    benchmark::DoNotOptimize(session.output().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ClientTransaction)->Args({1024, 1})->Args({1024, 0})->Args({100 * 1024, 1})
    ->Args({100 * 1024, 0});

}  // namespace
}  // namespace ringmta::proto

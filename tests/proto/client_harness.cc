// tests/proto/client_harness.cc — see client_harness.h.
#include "tests/proto/client_harness.h"

#include <algorithm>
#include <cstdlib>

#include "proto/reply.h"
#include "tests/proto/fragments.h"

namespace ringmta::proto::testing {
namespace {

struct Driver {
  ClientSession& session;
  const std::vector<ClientAction>& actions;
  ClientRun& run;
  size_t next = 0;

  void take_output() {
    if (!session.output().empty()) {
      run.writes.push_back(session.output());
      run.output.append(session.output());
      session.output().clear();
    }
  }

  // act does what the engine would do now, as often as it can.
  void act() {
    take_output();
    for (;;) {
      if (session.has_result()) {
        run.results.push_back(session.take_result());
        continue;
      }
      if (session.closed() || !session.ready() || next >= actions.size()) {
        return;
      }
      const ClientAction& a = actions[next];
      if (a.kind == ClientAction::kQuit) {
        ++next;
        session.quit();
      } else if (a.kind == ClientAction::kSend) {
        ++next;
        OutboundMessage m;
        m.sender = a.sender;
        m.recipients = a.recipients;
        m.trace_headers = a.trace_headers;
        m.body = a.body;
        m.smtputf8 = a.smtputf8;
        m.body_type = a.eight_bit ? BodyType::k8BitMime : BodyType::k7Bit;
        session.send_message(m);
        ++run.sent;
      } else {
        return;
      }
      take_output();
    }
  }
};

}  // namespace

ClientRun run_client(const ClientConfig& config, std::string_view server,
                     const std::vector<ClientAction>& actions, size_t fragment) {
  ClientRun run;
  ClientSession session(config);
  Driver driver{session, actions, run};
  std::string pending;
  for (std::string_view piece : split(server, fragment)) {
    pending.append(piece);
    while (!pending.empty() && !session.closed()) {
      size_t used = session.consume(pending);
      pending.erase(0, used);
      driver.act();
      if (used == 0) {
        break;
      }
    }
    driver.act();
  }
  // Whatever remains (lost/timeout) happens after the server said its part.
  while (driver.next < actions.size() && !session.closed()) {
    const ClientAction& a = actions[driver.next++];
    if (a.kind == ClientAction::kLost) {
      session.on_connection_lost();
    } else if (a.kind == ClientAction::kTimeout) {
      session.on_timeout();
    } else {
      break;  // the session never became ready for it
    }
    driver.act();
  }
  driver.act();
  run.closed = session.closed();
  run.failed = session.failed();
  run.failure = session.failure();
  run.caps = session.caps();
  run.phase = std::string(session.phase());
  return run;
}

std::string render_results(const ClientRun& run, const std::vector<ClientAction>& actions) {
  std::string out;
  size_t message = 0;
  for (const TransactionResult& r : run.results) {
    // Results come in send order; find the matching send for the addresses.
    while (message < actions.size() && actions[message].kind != ClientAction::kSend) {
      ++message;
    }
    out.append("message");
    if (r.connection_lost) {
      out.append(" (connection lost)");
    }
    if (r.data_reply.code != 0) {
      append_pieces(&out, {" data: ", format_reply(r.data_reply)});
    }
    out.append("\n");
    for (size_t i = 0; i < r.recipients.size(); ++i) {
      std::string_view addr =
          message < actions.size() && i < actions[message].recipients.size()
              ? std::string_view(actions[message].recipients[i])
              : std::string_view("?");
      append_pieces(&out, {"  ", addr, ": ", format_reply(r.recipients[i].reply),
                           r.recipients[i].reply.local ? " (local)" : "", "\n"});
    }
    ++message;
  }
  append_pieces(&out, {"phase: ", run.phase, run.failed ? " failed: " : "",
                       run.failed ? format_reply(run.failure) : "", "\n"});
  return out;
}

namespace {

// unescape: \r \n \t \\ \xHH, and $(N*c) for N copies of c.
bool unescape(std::string_view in, std::string* out, std::string* error) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '$' && i + 1 < in.size() && in[i + 1] == '(') {
      size_t star = in.find('*', i);
      size_t close = in.find(')', i);
      if (star == std::string_view::npos || close != star + 2) {
        *error = "bad $(N*c)";
        return false;
      }
      size_t n = std::strtoul(std::string(in.substr(i + 2, star - i - 2)).c_str(), nullptr, 10);
      out->append(n, in[star + 1]);
      i = close;
    } else if (c == '\\' && i + 1 < in.size()) {
      char e = in[++i];
      if (e == 'r') {
        out->push_back('\r');
      } else if (e == 'n') {
        out->push_back('\n');
      } else if (e == 't') {
        out->push_back('\t');
      } else if (e == 'x' && i + 2 < in.size()) {
        out->push_back(static_cast<char>(
            std::strtoul(std::string(in.substr(i + 1, 2)).c_str(), nullptr, 16)));
        i += 2;
      } else {
        out->push_back(e);
      }
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    items.emplace_back(text.substr(0, comma));
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
  }
  return items;
}

}  // namespace

bool parse_script(std::string_view text, ClientConfig* config,
                  std::vector<ClientAction>* actions, std::string* error) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::string_view verb = line.substr(0, line.find(' '));
    std::string_view rest = verb.size() < line.size() ? line.substr(verb.size() + 1) : "";
    ClientAction action;
    if (verb == "quit") {
      action.kind = ClientAction::kQuit;
    } else if (verb == "lost") {
      action.kind = ClientAction::kLost;
    } else if (verb == "timeout") {
      action.kind = ClientAction::kTimeout;
    } else if (verb != "send" && verb != "config") {
      *error = "unknown action: ";
      error->append(line);
      return false;
    }
    action.body = "Subject: test\r\n\r\nhello\r\n";
    // Options are space-separated; body= takes the rest of the line.
    while (!rest.empty()) {
      std::string_view word = rest.substr(0, rest.find(' '));
      if (word.substr(0, 5) == "body=") {
        action.body.clear();
        if (!unescape(rest.substr(5), &action.body, error)) {
          return false;
        }
        break;
      }
      rest.remove_prefix(std::min(rest.size(), word.size() + 1));
      size_t eq = word.find('=');
      std::string_view key = word.substr(0, eq);
      std::string value;
      if (eq != std::string_view::npos && !unescape(word.substr(eq + 1), &value, error)) {
        return false;
      }
      if (key == "from") {
        action.sender = value == "<>" ? "" : value;
      } else if (key == "to") {
        action.recipients = split_list(value);
      } else if (key == "smtputf8") {
        action.smtputf8 = true;
      } else if (key == "8bit") {
        action.eight_bit = true;
      } else if (key == "trace") {
        action.trace_headers =
            "Received: from client.test by mx.test; Sun, 22 Nov 2026 10:00:00 +0000\r\n";
      } else if (key == "pipelining") {
        config->use_pipelining = value == "1";
      } else if (key == "chunking") {
        config->use_chunking = value == "1";
      } else if (key == "max_line") {
        config->max_line = std::strtoul(value.c_str(), nullptr, 10);
      } else if (key == "helo") {
        config->helo_name = value;
      } else {
        *error = "unknown option: ";
        error->append(word);
        return false;
      }
    }
    if (verb != "config") {
      actions->push_back(std::move(action));
    }
  }
  return true;
}

}  // namespace ringmta::proto::testing

// tools/ctl/cares_dns.cc — blocking c-ares questions (cares_dns.h).
#include "tools/ctl/cares_dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/runtime/absl_compat.h"

namespace ringmta::ctl {
namespace {

int wire_type(RrType t) {
  switch (t) {
    case RrType::kA:
      return ns_t_a;
    case RrType::kAaaa:
      return ns_t_aaaa;
    case RrType::kMx:
      return ns_t_mx;
    case RrType::kTxt:
      return ns_t_txt;
    case RrType::kPtr:
      return ns_t_ptr;
  }
  return ns_t_a;
}

std::string no_dot(std::string s) {
  while (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return absl::AsciiStrToLower(s);
}

// parse_records reads the answer of one type out of a response; an
// ARES_ENODATA from a parser means the name has none of that type.
int parse_records(RrType type, const unsigned char* buf, int len, std::vector<std::string>* out) {
  switch (type) {
    case RrType::kTxt: {
      ares_txt_ext* txt = nullptr;
      const int st = ares_parse_txt_reply_ext(buf, len, &txt);
      for (ares_txt_ext* t = txt; st == ARES_SUCCESS && t != nullptr; t = t->next) {
        // Strings of one record come in a row, the first marked
        // record_start: join them (RFC 7208 3.3, RFC 6376 3.6.2.2).
        if (t->record_start || out->empty()) {
          out->emplace_back();
        }
        out->back().append(reinterpret_cast<const char*>(t->txt), t->length);
      }
      ares_free_data(txt);
      return st;
    }
    case RrType::kMx: {
      ares_mx_reply* mx = nullptr;
      const int st = ares_parse_mx_reply(buf, len, &mx);
      for (ares_mx_reply* m = mx; st == ARES_SUCCESS && m != nullptr; m = m->next) {
        std::string host = no_dot(m->host);
        if (!host.empty()) {  // a null MX (RFC 7505) names no host
          out->push_back(std::move(host));
        }
      }
      ares_free_data(mx);
      return st;
    }
    case RrType::kPtr: {
      // ares_parse_ptr_reply copies an address into the hostent it makes;
      // any will do, only the names are read.
      unsigned char addr[16] = {};
      hostent* h = nullptr;
      const int st = ares_parse_ptr_reply(buf, len, addr, sizeof addr, AF_INET6, &h);
      if (st == ARES_SUCCESS) {
        // c-ares 1.18 lists every PTR name in h_aliases (h_name is the last).
        for (char** a = h->h_aliases; a != nullptr && *a != nullptr; ++a) {
          out->push_back(no_dot(*a));
        }
        if (out->empty()) {
          out->push_back(no_dot(h->h_name));
        }
        ares_free_hostent(h);
      }
      return st;
    }
    case RrType::kA:
    case RrType::kAaaa: {
      hostent* h = nullptr;
      const int st = type == RrType::kA ? ares_parse_a_reply(buf, len, &h, nullptr, nullptr)
                                        : ares_parse_aaaa_reply(buf, len, &h, nullptr, nullptr);
      if (st == ARES_SUCCESS) {
        for (char** a = h->h_addr_list; *a != nullptr; ++a) {
          char text[INET6_ADDRSTRLEN];
          inet_ntop(h->h_addrtype, *a, text, sizeof text);
          out->emplace_back(text);
        }
        ares_free_hostent(h);
      }
      return st;
    }
  }
  return ARES_ENODATA;
}

struct Pending {
  RrType type;
  bool done = false;
  DnsResult result;
};

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* buf, int len) {
  auto* p = static_cast<Pending*>(arg);
  p->done = true;
  if (status == ARES_SUCCESS) {
    status = parse_records(p->type, buf, len, &p->result.records);
  }
  switch (status) {
    case ARES_SUCCESS:
      p->result.status = p->result.records.empty() ? DnsStatus::kNoData : DnsStatus::kOk;
      return;
    case ARES_ENOTFOUND:
      p->result.status = DnsStatus::kNxDomain;
      return;
    case ARES_ENODATA:
      p->result.status = DnsStatus::kNoData;
      return;
    case ARES_ETIMEOUT:
      p->result.status = DnsStatus::kTimeout;
      return;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
      p->result.status = DnsStatus::kError;
      p->result.error = status == ARES_ESERVFAIL ? "the server answered SERVFAIL" : "the server answered REFUSED";
      return;
    default:
      p->result.status = DnsStatus::kError;
      p->result.error = ares_strerror(status);
      return;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<CaresDns>> CaresDns::create(const std::string& servers) {
  static const int init = ares_library_init(ARES_LIB_INIT_ALL);
  if (init != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(init)));
  }
  ares_options opts{};
  opts.timeout = kTimeoutMs;
  opts.tries = 1;  // the second try is ours (ask_once twice), with the same 2 s
  // NOCHECKRESP: a SERVFAIL or REFUSED comes back as such (c-ares would
  // otherwise try the next server and end with "could not contact"), so a
  // line can say what the server said.
  opts.flags = ARES_FLAG_NOCHECKRESP;
  ares_channel ch = nullptr;
  if (int st = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
      st != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_init_options: ", ares_strerror(st)));
  }
  if (!servers.empty()) {
    if (int st = ares_set_servers_ports_csv(ch, servers.c_str()); st != ARES_SUCCESS) {
      ares_destroy(ch);
      return absl::InvalidArgumentError(
          absl::StrCat("--resolver ", servers, ": ", ares_strerror(st), " (expected IP:PORT, e.g. 127.0.0.1:53)"));
    }
  }
  return std::unique_ptr<CaresDns>(new CaresDns(ch, servers.empty() ? "the servers of /etc/resolv.conf" : servers));
}

CaresDns::~CaresDns() { ares_destroy(_channel); }

DnsResult CaresDns::query(std::string_view name, RrType type) {
  std::string key_name = no_dot(std::string(name));
  auto key = std::make_pair(key_name, type);
  if (auto it = _cache.find(key); it != _cache.end()) {
    return it->second;
  }
  DnsResult r;
  for (int i = 0; i < kTries; ++i) {
    r = ask_once(key_name, type);
    if (r.status != DnsStatus::kTimeout) {
      break;
    }
  }
  if (r.status == DnsStatus::kTimeout) {
    r.error = absl::StrCat("no answer from ", _servers, " (", kTries, " tries of ", kTimeoutMs / 1000, " s)");
  }
  return _cache[key] = r;
}

DnsResult CaresDns::ask_once(const std::string& name, RrType type) {
  Pending p{type};
  ares_query(_channel, name.c_str(), ns_c_in, wire_type(type), on_answer, &p);
  while (!p.done) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int mask = ares_getsock(_channel, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const short ev = static_cast<short>((ARES_GETSOCK_READABLE(mask, i) ? POLLIN : 0) |
                                          (ARES_GETSOCK_WRITABLE(mask, i) ? POLLOUT : 0));
      if (ev != 0) {
        fds[n++] = pollfd{socks[i], ev, 0};
      }
    }
    timeval tv{};
    timeval* left = ares_timeout(_channel, nullptr, &tv);
    const int wait_ms = left == nullptr ? 1000 : static_cast<int>(left->tv_sec * 1000 + left->tv_usec / 1000);
    const int ready = poll(fds, n, std::max(wait_ms, 1));
    if (ready <= 0) {
      ares_process_fd(_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // lets c-ares see the timeout
      continue;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      const bool rd = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool wr = (fds[i].revents & POLLOUT) != 0;
      ares_process_fd(_channel, rd ? fds[i].fd : ARES_SOCKET_BAD, wr ? fds[i].fd : ARES_SOCKET_BAD);
    }
  }
  return p.result;
}

}  // namespace ringmta::ctl

// proto/inject_message.cc — from an injection request to spool-ready
// messages (inject_message.h).
#include "proto/inject_message.h"

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "proto/message_finish.h"
#include "proto/mime_build.h"
#include "proto/template.h"

namespace ringmta::proto {
namespace {

// The templates of a request, parsed once for every recipient.
struct Templates {
  std::optional<Template> raw;
  Template from, subject, text, html;
  std::optional<Template> reply_to;
  std::vector<std::pair<std::string, Template>> headers;
};

Templates parse_templates(const InjectRequest& r) {
  Templates t;
  if (const auto* raw = std::get_if<std::string>(&r.content)) {
    t.raw = Template::parse(*raw, TemplateKind::kRawMessage);
    return t;
  }
  const auto& p = std::get<MessageParts>(r.content);
  t.from = Template::parse(p.from, TemplateKind::kHeaderValue);
  t.subject = Template::parse(p.subject, TemplateKind::kHeaderValue);
  t.text = Template::parse(p.text_body, TemplateKind::kBody);
  t.html = Template::parse(p.html_body, TemplateKind::kBody);
  if (p.reply_to) {
    t.reply_to = Template::parse(*p.reply_to, TemplateKind::kHeaderValue);
  }
  for (const auto& [name, value] : p.headers) {
    t.headers.emplace_back(name, Template::parse(value, TemplateKind::kHeaderValue));
  }
  return t;
}

// render_body renders the message for one recipient (`to` is "" for a
// message with several) into *out.
absl::Status render_body(const Templates& t, const Substitutions& rcpt, const Substitutions& global,
                         std::string_view to, std::string_view queue_id, absl::Time now, std::string* out) {
  if (t.raw) {
    return t.raw->render(rcpt, global, out);
  }
  MessageParts p;
  absl::Status s;
  auto r = [&](const Template& tmpl, std::string* dst) {
    if (s.ok()) s = tmpl.render(rcpt, global, dst);
  };
  r(t.from, &p.from);
  r(t.subject, &p.subject);
  r(t.text, &p.text_body);
  r(t.html, &p.html_body);
  if (t.reply_to) {
    p.reply_to.emplace();
    r(*t.reply_to, &*p.reply_to);
  }
  for (const auto& [name, tmpl] : t.headers) {
    p.headers.emplace_back(name, "");
    r(tmpl, &p.headers.back().second);
  }
  if (!s.ok()) {
    return s;
  }
  MimeOptions o;
  o.to = to;
  o.date = now;
  o.message_id_token = queue_id;
  o.boundary_token = queue_id;
  absl::StatusOr<std::string> m = build_mime_message(p, o);
  if (!m.ok()) {
    return m.status();
  }
  *out = std::move(*m);
  return absl::OkStatus();
}

// finish applies what the end of DATA applies (message_finish.h); the
// request's campaign_id wins over an X-Ringmta-Campaign header.
absl::Status finish(CompletedMessage& m, const InjectRequest& req, const InjectBuildOptions& o) {
  FinishOptions f;
  f.hostname = o.hostname;
  // No EHLO name over HTTP: the client's address literal stands for it
  // (RFC 5321's Extended-Domain allows one).
  f.client_addr = o.client_addr;
  f.protocol = "HTTP";
  f.now = o.now;
  f.max_message_size = o.max_message_size;
  f.max_text_line = o.max_text_line;
  f.require_list_unsubscribe = o.require_list_unsubscribe;
  absl::Status s = finish_message(f, &m);
  if (s.ok() && req.campaign_id) {
    m.envelope.campaign = *req.campaign_id;
  }
  return s;
}

std::unique_ptr<CompletedMessage> new_message(const InjectRequest& req, const InjectBuildOptions& o) {
  auto m = std::make_unique<CompletedMessage>();
  m->queue_id = o.new_queue_id();
  m->arrival = o.now;
  m->envelope.sender = req.envelope_sender;
  m->envelope.smtputf8 = req.needs_smtputf8;
  m->envelope.client_addr = std::string(o.client_addr);
  m->envelope.helo = "[" + std::string(o.client_addr) + "]";
  return m;
}

}  // namespace

InjectBuild build_inject_messages(const InjectRequest& req, const InjectBuildOptions& o) {
  InjectBuild out;
  out.failed = req.failed_recipients;
  const Templates t = parse_templates(req);
  bool per_recipient = !req.substitutions.empty();
  for (const InjectRecipient& r : req.recipients) {
    per_recipient = per_recipient || !r.substitutions.empty();
  }
  auto fail = [&](size_t index, const std::string& email, std::string reason) {
    out.failed.push_back(FailedRecipient{index, email, std::move(reason)});
  };
  // The index of each valid recipient in the request's array: the parser
  // keeps the valid ones in order and lists the others by index.
  std::vector<size_t> index;
  index.reserve(req.recipients.size());
  {
    absl::flat_hash_set<size_t> bad;
    for (const FailedRecipient& f : req.failed_recipients) bad.insert(f.index);
    for (size_t i = 0; index.size() < req.recipients.size(); ++i) {
      if (!bad.contains(i)) index.push_back(i);
    }
  }
  static const Substitutions kNone;
  if (per_recipient) {
    for (size_t i = 0; i < req.recipients.size(); ++i) {
      const InjectRecipient& r = req.recipients[i];
      auto m = new_message(req, o);
      m->envelope.recipients.push_back(r.email);
      absl::Status s = render_body(t, r.substitutions, req.substitutions, r.email, m->queue_id, o.now, &m->body);
      if (s.ok()) s = finish(*m, req, o);
      if (!s.ok()) {
        fail(index[i], r.email, std::string(s.message()));
        continue;
      }
      out.messages.push_back(std::move(m));
      out.counts.push_back(1);
    }
    return out;
  }
  // No substitutions: one body for everyone, in messages of at most
  // max_recipients distinct recipients.
  // A duplicate is delivered once, with the first; it counts as accepted
  // (or failed) with it.
  absl::flat_hash_map<std::string_view, size_t> first;  // email -> index in rcpts
  std::vector<std::pair<size_t, const std::string*>> rcpts;
  std::vector<size_t> copies;  // per entry of rcpts: how many times it was given
  for (size_t i = 0; i < req.recipients.size(); ++i) {
    auto [it, fresh] = first.emplace(req.recipients[i].email, rcpts.size());
    if (fresh) {
      rcpts.emplace_back(index[i], &req.recipients[i].email);
      copies.push_back(1);
    } else {
      ++copies[it->second];
    }
  }
  const size_t per = std::max<size_t>(1, o.max_recipients);
  for (size_t start = 0; start < rcpts.size(); start += per) {
    const size_t end = std::min(rcpts.size(), start + per);
    auto m = new_message(req, o);
    for (size_t i = start; i < end; ++i) {
      m->envelope.recipients.push_back(*rcpts[i].second);
    }
    const std::string_view to = end - start == 1 ? std::string_view(*rcpts[start].second) : "";
    absl::Status s = render_body(t, kNone, kNone, to, m->queue_id, o.now, &m->body);
    if (s.ok()) s = finish(*m, req, o);
    if (!s.ok()) {
      for (size_t i = start; i < end; ++i) {
        fail(rcpts[i].first, *rcpts[i].second, std::string(s.message()));
      }
      continue;
    }
    size_t count = 0;
    for (size_t i = start; i < end; ++i) {
      count += copies[i];
    }
    out.messages.push_back(std::move(m));
    out.counts.push_back(count);
  }
  return out;
}

}  // namespace ringmta::proto

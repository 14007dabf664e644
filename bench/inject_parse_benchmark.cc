// bench/inject_parse_benchmark.cc — the inject API's request: parsing a
// 100- and a 10,000-recipient body with simdjson (proto/inject_request.h)
// beside nlohmann-json (the header-only parser Debian ships, here only to
// say why simdjson), and rendering one template for 10,000 recipients.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "proto/inject_request.h"
#include "proto/template.h"

namespace {

std::string request(int recipients) {
  std::string s = R"({"envelope_sender": "bounces@news.example.com",
 "content": "From: News <news@example.com>\r\nSubject: Hello {{name}}\r\n\r\nHi {{name}}, your code is {{code}}.\r\n",
 "substitutions": {"code": "default"}, "campaign_id": "bench", "recipients": [)";
  for (int i = 0; i < recipients; ++i) {
    if (i > 0) {
      s += ",\n";
    }
    s += R"({"email": "user)" + std::to_string(i) + R"(@example.net", "substitutions": {"name": "Name )" +
         std::to_string(i) + R"(", "code": "C)" + std::to_string(i) + R"("}})";
  }
  s += "]}";
  return s;
}

void BM_ParseSimdjson(benchmark::State& state) {
  const std::string body = request(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto r = ringmta::proto::parse_inject_request(body);
    if (!r.ok() || r->recipients.size() != static_cast<size_t>(state.range(0))) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseSimdjson)->Arg(100)->Arg(10000);

// The same walk into the same struct with nlohmann-json's DOM (addresses
// are not checked here, so this flatters nlohmann slightly).
void BM_ParseNlohmann(benchmark::State& state) {
  const std::string body = request(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    ringmta::proto::InjectRequest r;
    r.envelope_sender = j["envelope_sender"].get<std::string>();
    r.content = j["content"].get<std::string>();
    for (auto& [k, v] : j["substitutions"].items()) {
      r.substitutions.emplace(k, v.get<std::string>());
    }
    for (auto& rj : j["recipients"]) {
      ringmta::proto::InjectRecipient rc;
      rc.email = rj["email"].get<std::string>();
      for (auto& [k, v] : rj["substitutions"].items()) {
        rc.substitutions.emplace(k, v.get<std::string>());
      }
      r.recipients.push_back(std::move(rc));
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseNlohmann)->Arg(100)->Arg(10000);

// One raw-message template, rendered for each of 10,000 recipients.
void BM_RenderTemplate(benchmark::State& state) {
  auto r = ringmta::proto::parse_inject_request(request(10000));
  const auto t = ringmta::proto::Template::parse(std::get<std::string>(r->content),
                                                 ringmta::proto::TemplateKind::kRawMessage);
  std::string out;
  for (auto _ : state) {
    for (const auto& rc : r->recipients) {
      out.clear();
      if (!t.render(rc.substitutions, r->substitutions, &out).ok()) {
        state.SkipWithError("render failed");
        return;
      }
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_RenderTemplate);

}  // namespace

// proto/http_response.h — the bytes of an HTTP/1.1 response (the admin
// API's answers) and of a request (the webhook client's POSTs).
//
//   out += http_response(200, "application/json", body, keep_alive);
//   out += http_error(404, "no such queue id", keep_alive);   // {"error": "..."}
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringmta::proto {

// http_reason: the reason phrase for a status ("Not Found").
std::string_view http_reason(int status);

// http_response: status line, Content-Type, Content-Length, Connection:
// close when !keep_alive, any extra headers ("Name: value" pairs), body.
std::string http_response(int status, std::string_view content_type, std::string_view body, bool keep_alive,
                          const std::vector<std::pair<std::string, std::string>>& extra = {});
// http_error: a JSON error body {"error": message}.
std::string http_error(int status, std::string_view message, bool keep_alive);

// http_post: a POST request for target on host with a JSON body.
std::string http_post(std::string_view host, std::string_view target, std::string_view body,
                      const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace ringmta::proto

// proto/json_text.h — writing JSON text by hand, for the few places that
// produce it (the event log, the admin API's answers): appending is
// cheaper than building a document, and the shapes are fixed.
#pragma once

#include <string>
#include <string_view>

namespace ringmta::proto {

// append_json_string writes s as a JSON string literal (quotes included);
// bytes that are not well-formed UTF-8 become \ufffd, so the text is
// always valid JSON whatever a peer sent.
void append_json_string(std::string* out, std::string_view s);

}  // namespace ringmta::proto

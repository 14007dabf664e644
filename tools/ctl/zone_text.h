// tools/ctl/zone_text.h — a TXT record as a person publishes it: the value
// cut into character-strings of at most 255 octets (one DNS string's limit,
// RFC 1035 3.3.14; RFC 6376 3.6.2.2 and RFC 7208 3.3 say a receiver joins
// them again), quoted for a zone file.
//
//   txt_strings("v=DKIM1; k=rsa; p=MIIB...")   // {"v=DKIM1; k=rsa; ", "p=MIIB...", ...}
//   zone_txt_line("s1._domainkey.example.com", value)
//     // s1._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; " "p=MIIB..." "..."
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringmta::ctl {

inline constexpr size_t kTxtStringMax = 255;

// txt_strings cuts `value` into strings of at most 255 octets. A longer
// value that holds a p= tag (a DKIM key) is cut before it first, so that the
// tags before the key stay one readable string and the key starts its own.
std::vector<std::string> txt_strings(std::string_view value);

// quoted: a zone-file character-string: "..." with '"' and '\' escaped.
std::string quoted(std::string_view s);

// zone_txt_line: "NAME. IN TXT "s1" "s2" ..." on one line.
std::string zone_txt_line(std::string_view name, std::string_view value);
// zone_txt_block: the same in parentheses, one string a line:
//   NAME. IN TXT ( "s1"
//     "s2" )
std::string zone_txt_block(std::string_view name, std::string_view value);

}  // namespace ringmta::ctl

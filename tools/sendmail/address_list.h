// tools/sendmail/address_list.h — the addresses in a To:/Cc:/Bcc: field, for
// -t. RFC 5322 3.4: an address-list of mailboxes ("Name <a@b>", "a@b
// (comment)") and groups ("team: a@b, c@d;"), with quoted strings and
// nested comments that may hold commas, colons and angle brackets.
//
//   parse_address_list("\"Doe, J\" <j@x.test>, undisclosed-recipients:;")
//     -> {"j@x.test"}
//
// Lenient like Postfix: what is not an address (an empty group, a stray
// word) is skipped, never an error; the server checks each address again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringmta::sendmail {

// parse_address_list returns the addr-specs of an unfolded field value, in
// order, without angle brackets, comments or source routes.
std::vector<std::string> parse_address_list(std::string_view value);

}  // namespace ringmta::sendmail

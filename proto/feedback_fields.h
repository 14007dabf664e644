// proto/feedback_fields.h — feedback_report.cc's field readers, one per
// kind of part: each reads a part's decoded text into the report. Not
// meant for other callers: parse_feedback_report() (feedback_report.h)
// finds the parts and is what the tests go through.
#pragma once

#include <string_view>

#include "proto/feedback_report.h"

namespace ringmta::proto {

// read_delivery_status reads a message/delivery-status (or RFC 6533
// global) part: the per-message fields, then one block per recipient
// (RFC 3464 2.2, 2.3), at most limits.max_recipients of them.
void read_delivery_status(std::string_view body, const FeedbackLimits& limits, FeedbackReport* r);

// read_feedback reads a message/feedback-report part (RFC 5965 3.1).
void read_feedback(std::string_view body, const FeedbackLimits& limits, FeedbackReport* r);

// read_returned reads the returned message's header section.
void read_returned(std::string_view section, const FeedbackLimits& limits, ReturnedHeaders* h);

}  // namespace ringmta::proto

// tests/engine/delivery/bounce_class_test.cc — bounce classification: the
// shipped rules on real provider replies and on ringmta's own failures,
// first match wins, the bound on the line, and every load error.
#include "engine/delivery/bounce_class.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace ringmta {
namespace {

const BounceClassifier& shipped() {
  static const std::shared_ptr<const BounceClassifier> kRules = [] {
    auto r = BounceClassifier::shipped();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : nullptr;
  }();
  return *kRules;
}

std::string name(BounceClass c) { return std::string(bounce_class_name(c)); }

std::string classify(std::string_view line) { return name(shipped().classify(line)); }

std::shared_ptr<const BounceClassifier> load(std::string_view text) {
  auto r = BounceClassifier::load_text(text, "test.toml");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : nullptr;
}

std::string load_error(std::string_view text) {
  auto r = BounceClassifier::load_text(text, "test.toml");
  EXPECT_FALSE(r.ok()) << "loaded: " << text;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(BounceClass, NamesRoundTrip) {
  for (size_t i = 0; i < kBounceClassCount; ++i) {
    const auto c = static_cast<BounceClass>(i);
    BounceClass back = BounceClass::kUncategorized;
    ASSERT_TRUE(parse_bounce_class(bounce_class_name(c), &back)) << bounce_class_name(c);
    EXPECT_EQ(back, c);
  }
  BounceClass out;
  EXPECT_FALSE(parse_bounce_class("invalidrecipient", &out));  // case matters, as in the rules file
  EXPECT_FALSE(parse_bounce_class("MessageTooLarge/ContentRelated", &out));
  EXPECT_EQ(name(BounceClass::kMessageTooLarge), "MessageTooLarge");
  EXPECT_EQ(name(BounceClass::kContentRelated), "ContentRelated");
  EXPECT_EQ(name(BounceClass::kDNSFailure), "DNSFailure");
}

TEST(BounceClass, ShippedFileLoadsEveryRule) {
  auto r = BounceClassifier::load_text(shipped_bounce_classes(), "tools/bounce-classes.toml");
  ASSERT_TRUE(r.ok()) << r.status();
  // Every [[rule]] of the file is loaded, each regex compiled (else the load fails).
  size_t tables = 0;
  for (size_t pos = 0; (pos = shipped_bounce_classes().find("\n[[rule]]\n", pos)) != std::string_view::npos;
       ++pos) {
    ++tables;
  }
  EXPECT_GT(tables, 50u);
  EXPECT_EQ((*r)->rules(), tables);
  EXPECT_GE((*r)->patterns(), tables);
  EXPECT_EQ(shipped().rules(), tables);
}

TEST(BounceClass, RfcCodes) {
  EXPECT_EQ(classify("550 5.1.1 user unknown"), "InvalidRecipient");
  EXPECT_EQ(classify("550 5.1.1 <bob@example.test>: Recipient address rejected"), "InvalidRecipient");
  EXPECT_EQ(classify("452 4.2.2 mailbox full"), "QuotaIssues");
  EXPECT_EQ(classify("552 5.2.2 sorry"), "QuotaIssues");
  EXPECT_EQ(classify("550 5.1.2 bad destination system"), "BadDomain");
  EXPECT_EQ(classify("552 5.3.4 sorry"), "MessageTooLarge");
  EXPECT_EQ(classify("552 5.2.3 sorry"), "MessageTooLarge");
  EXPECT_EQ(classify("550 5.4.4 Unable to route"), "RoutingErrors");
  EXPECT_EQ(classify("451 4.4.7 Delivery time expired"), "MessageExpired");
  EXPECT_EQ(classify("554 5.4.7 delivery time expired"), "MessageExpired");
  EXPECT_EQ(classify("550 5.2.1 mailbox disabled"), "InactiveMailbox");
  EXPECT_EQ(classify("550 5.7.1 sorry"), "PolicyRelated");
  EXPECT_EQ(classify("550 5.7.23 SPF validation failed"), "AuthenticationFailed");
  EXPECT_EQ(classify("550 5.7.26 multiple authentication checks failed"), "AuthenticationFailed");
  EXPECT_EQ(classify("501 5.5.4 syntax error"), "ProtocolErrors");
  EXPECT_EQ(classify("554 5.6.0 bad media"), "ContentRelated");
  EXPECT_EQ(classify("451 4.4.5 congestion"), "TransientFailure");
}

TEST(BounceClass, Gmail) {
  EXPECT_EQ(classify("550 5.1.1 The email account that you tried to reach does not exist. Please try "
                     "double-checking the recipient's email address for typos or unnecessary spaces. For more "
                     "information, go to https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp"),
            "InvalidRecipient");
  EXPECT_EQ(classify("550 5.2.1 The email account that you tried to reach is disabled. a1si123 - gsmtp"),
            "InactiveMailbox");
  EXPECT_EQ(classify("452 4.2.2 The email account that you tried to reach is over quota. Please direct the "
                     "recipient to https://support.google.com/mail/?p=OverQuotaTemp a1si123 - gsmtp"),
            "QuotaIssues");
  EXPECT_EQ(classify("550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail "
                     "requires all senders to authenticate with either SPF or DKIM. a1si123 - gsmtp"),
            "AuthenticationFailed");
  EXPECT_EQ(classify("550 5.7.26 Unauthenticated email from example.test is not accepted due to domain's "
                     "DMARC policy. a1si123 - gsmtp"),
            "AuthenticationFailed");
  EXPECT_EQ(classify("421 4.7.0 [192.0.2.1 15] Our system has detected an unusual rate of unsolicited mail "
                     "originating from your IP address. To protect our users from spam, mail sent from your IP "
                     "address has been temporarily rate limited."),
            "SpamBlock");
  EXPECT_EQ(classify("552 5.3.4 Your message exceeded Google's message size limits. a1si123 - gsmtp"),
            "MessageTooLarge");
  EXPECT_EQ(classify("421 4.7.0 Try again later, closing connection. a1si123 - gsmtp"), "TransientFailure");
}

TEST(BounceClass, Yahoo) {
  EXPECT_EQ(classify("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume "
                     "or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"),
            "SpamBlock");
  EXPECT_EQ(classify("553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will "
                     "NOT succeed. See https://postmaster.yahooinc.com/error-codes"),
            "SpamBlock");
  EXPECT_EQ(classify("554 30 Sorry, your message to bob@yahoo.com cannot be delivered. This mailbox is "
                     "disabled (554.30)."),
            "InactiveMailbox");
  EXPECT_EQ(classify("554 5.7.9 Message not accepted for policy reasons.  See "
                     "https://postmaster.yahooinc.com/error-codes"),
            "PolicyRelated");
  EXPECT_EQ(classify("552 1 Requested mail action aborted, mailbox not found"), "InvalidRecipient");
}

TEST(BounceClass, Microsoft) {
  EXPECT_EQ(classify("550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
                     "Internet service provider since part of their network is on our block list (S3150). You "
                     "can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors."),
            "SpamBlock");
  EXPECT_EQ(classify("550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this "
                     "list please visit https://sender.office.com/ and follow the directions. AS(1430)"),
            "SpamBlock");
  // 5.1.10 is a null MX (RFC 7505) everywhere but here: the words win.
  EXPECT_EQ(classify("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"),
            "InvalidRecipient");
  EXPECT_EQ(classify("550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)"),
            "InvalidRecipient");
  EXPECT_EQ(classify("554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException"),
            "QuotaIssues");
  EXPECT_EQ(classify("451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS761)"),
            "TransientFailure");
}

TEST(BounceClass, GeneralTexts) {
  EXPECT_EQ(classify("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
                     "https://www.spamhaus.org/query/ip/192.0.2.1"),
            "SpamBlock");
  EXPECT_EQ(classify("554 5.7.1 <bob@example.test>: Relay access denied"), "RelayDenied");
  EXPECT_EQ(classify("550 no such user here"), "InvalidRecipient");  // no enhanced code
  EXPECT_EQ(classify("550 Requested action not taken: mailbox unavailable"), "InvalidRecipient");
  EXPECT_EQ(classify("550 user over quota"), "QuotaIssues");
  EXPECT_EQ(classify("552 5.2.2 Mailbox full"), "QuotaIssues");
  EXPECT_EQ(classify("550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown in virtual "
                     "mailbox table"),
            "InvalidRecipient");
  EXPECT_EQ(classify("450 4.2.0 <bob@example.test>: Recipient address rejected: Greylisted, see "
                     "http://postgrey.schweikert.ch/help/example.test.html"),
            "TransientFailure");
  EXPECT_EQ(classify("550 5.7.1 This account has been suspended"), "InactiveMailbox");
  EXPECT_EQ(classify("554 5.7.1 Message rejected: virus found"), "ContentRelated");
  EXPECT_EQ(classify("550 5.7.1 Message looks like spam"), "SpamContent");
}

TEST(BounceClass, RingmtaFailures) {
  // The texts engine/outbound and engine/delivery write (see their code).
  EXPECT_EQ(classify("451 4.4.3 DNS MX lookup of example.test: Timeout while contacting DNS servers"),
            "DNSFailure");
  EXPECT_EQ(classify("550 5.1.2 DNS MX lookup of nope.test: no such domain (NXDOMAIN)"), "BadDomain");
  EXPECT_EQ(classify("550 5.1.2 not a domain name: \"a..b\""), "BadDomain");
  EXPECT_EQ(classify("556 5.1.10 null-mx"), "BadDomain");
  EXPECT_EQ(classify("550 5.4.4 no MX host of example.test has an address: DNS A lookup of mx.example.test: "
                     "no such domain (NXDOMAIN)"),
            "DNSFailure");
  EXPECT_EQ(classify("550 5.4.4 no MX for example.test and no address for it: DNS A lookup of example.test: "
                     "no records"),
            "DNSFailure");
  EXPECT_EQ(classify("451 4.3.5 bad route or relay host 'x': bad port"), "RoutingErrors");
  EXPECT_EQ(classify("451 4.4.1 connect to mx.example.test[127.0.0.2]: Connection refused"), "NoAnswerFromHost");
  EXPECT_EQ(classify("451 4.4.1 connect to mx.example.test[127.0.0.2]: timed out"), "NoAnswerFromHost");
  EXPECT_EQ(classify("451 4.4.1 no mail exchanger answered"), "NoAnswerFromHost");
  EXPECT_EQ(classify("451 4.4.2 timeout while waiting for the dot reply"), "NoAnswerFromHost");
  EXPECT_EQ(classify("451 4.4.2 lost connection while waiting for the rcpt reply"), "BadConnection");
  EXPECT_EQ(classify("451 4.4.1 mx.example.test[127.0.0.1] closed the session early"), "BadConnection");
  EXPECT_EQ(classify("451 4.4.1 TLS with mx.example.test[127.0.0.1] failed: handshake failure"), "BadConnection");
  EXPECT_EQ(classify("451 4.4.1 TLS is not available (see the log)"), "BadConnection");
  EXPECT_EQ(classify("451 4.7.4 TLS is required, but the server does not offer STARTTLS"), "PolicyRelated");
  EXPECT_EQ(classify("451 4.4.1 mx.example.test[127.0.0.1] refused the session: 451 4.7.4 TLS is required, but "
                     "the server does not offer STARTTLS"),
            "PolicyRelated");
  EXPECT_EQ(classify("451 4.4.1 mx.example.test[127.0.0.1] refused the session: 451 4.4.2 timeout while "
                     "waiting for the greeting reply"),
            "NoAnswerFromHost");
  // A remote refusal's own words still win; unknown words are a bad connection.
  EXPECT_EQ(classify("451 4.4.1 mx.example.test[127.0.0.1] refused the session: 554 5.7.1 Client host "
                     "[192.0.2.1] blocked using zen.spamhaus.org"),
            "SpamBlock");
  EXPECT_EQ(classify("451 4.4.1 mx.example.test[127.0.0.1] refused the session: 554 go away"), "BadConnection");
  // The embedded reply of a protocol error must not classify it.
  EXPECT_EQ(classify("451 4.5.0 unexpected reply: 550 5.1.1 user unknown"), "ProtocolErrors");
  EXPECT_EQ(classify("451 4.5.0 malformed reply from the server: no code"), "ProtocolErrors");
  EXPECT_EQ(classify("552 5.3.4 message size 2000 exceeds the server's limit of 1000"), "MessageTooLarge");
  EXPECT_EQ(classify("553 5.6.7 SMTPUTF8 is required, but was not offered by the server"), "ContentRelated");
  EXPECT_EQ(classify("553 5.1.3 unsafe recipient address"), "InvalidRecipient");
  EXPECT_EQ(classify("550 5.1.1 local delivery is not supported (no domain in the address)"), "InvalidRecipient");
  EXPECT_EQ(classify("451 4.4.5 suspended by shaping rule 1"), "TransientFailure");
  // Queue lifetime: the expiry wins over whatever the last error was.
  EXPECT_EQ(name(shipped().classify(451, "4.4.7",
                                    "gave up after 3 attempts (queue lifetime 1s); last error: 550 user unknown")),
            "MessageExpired");
}

TEST(BounceClass, UncategorizedWhenNoRuleMatches) {
  EXPECT_EQ(classify("550 go away"), "Uncategorized");
  EXPECT_EQ(classify("250 2.0.0 OK"), "Uncategorized");
  EXPECT_EQ(classify(""), "Uncategorized");
  EXPECT_EQ(classify(std::string("\0\xff\xfe 5.1.1 ", 9)), "Uncategorized");  // bytes, not UTF-8: no crash
}

TEST(BounceClass, LineFromCodeStatusText) {
  auto rules = load("[[rule]]\nclass = \"InvalidRecipient\"\nregex = '^550 5\\.1\\.1 user$'\n"
                    "[[rule]]\nclass = \"QuotaIssues\"\nregex = '^452 full$'\n"
                    "[[rule]]\nclass = \"BadConnection\"\nregex = '^000 lost$'\n");
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(rules->classify(550, "5.1.1", "user"), BounceClass::kInvalidRecipient);
  EXPECT_EQ(rules->classify(452, "", "full"), BounceClass::kQuotaIssues);  // no enhanced status: one space
  EXPECT_EQ(rules->classify(0, "", "lost"), BounceClass::kBadConnection);  // no reply at all
  EXPECT_EQ(rules->classify(12345, "", "lost"), BounceClass::kBadConnection);
  EXPECT_EQ(rules->classify(550, "5.1.1", std::string(5000, 'u')), BounceClass::kUncategorized);
}

TEST(BounceClass, FirstMatchWins) {
  auto a = load("[[rule]]\nclass = \"PolicyRelated\"\nregex = '^5'\n"
                "[[rule]]\nclass = \"InvalidRecipient\"\nregex = ['nothing', 'user unknown']\n");
  auto b = load("[[rule]]\nclass = \"InvalidRecipient\"\nregex = ['nothing', 'user unknown']\n"
                "[[rule]]\nclass = \"PolicyRelated\"\nregex = '^5'\n");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->classify("550 user unknown"), BounceClass::kPolicyRelated);
  EXPECT_EQ(b->classify("550 user unknown"), BounceClass::kInvalidRecipient);
  EXPECT_EQ(b->classify("550 go away"), BounceClass::kPolicyRelated);
  EXPECT_EQ(b->classify("450 go away"), BounceClass::kUncategorized);
}

TEST(BounceClass, ManyRulesStillFirstMatch) {
  // 3000 rules: the lowest-numbered matching rule wins among many hits.
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += "[[rule]]\nclass = \"" + std::string(i % 2 ? "SpamBlock" : "QuotaIssues") + "\"\nregex = 'code" +
            std::to_string(i) + "\\b'\n";
  }
  text += "[[rule]]\nclass = \"BadDomain\"\nregex = '.'\n";
  auto rules = load(text);
  ASSERT_NE(rules, nullptr);
  EXPECT_EQ(rules->rules(), 3001u);
  EXPECT_EQ(rules->classify("550 code2999 code1501 code2000"), BounceClass::kSpamBlock);  // rule 1501
  EXPECT_EQ(rules->classify("550 code2999 code2000"), BounceClass::kQuotaIssues);       // rule 2000
  EXPECT_EQ(rules->classify("550 code1500x"), BounceClass::kBadDomain);                 // \b: not rule 1500
}

TEST(BounceClass, OnlyTheFirstKMaxLineBytesAreMatched) {
  auto rules = load("[[rule]]\nclass = \"SpamBlock\"\nregex = 'needle'\n");
  ASSERT_NE(rules, nullptr);
  std::string line = "550 ";
  line += std::string(BounceClassifier::kMaxLine - line.size() - 6, 'x');
  EXPECT_EQ(rules->classify(line + "needle"), BounceClass::kSpamBlock);  // ends at byte kMaxLine
  EXPECT_EQ(rules->classify(line + "xneedle"), BounceClass::kUncategorized);
  // A huge hostile line costs what kMaxLine bytes cost.
  std::string huge(64u << 20, 'a');
  huge.replace(huge.size() - 6, 6, "needle");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(rules->classify(huge), BounceClass::kUncategorized);
  EXPECT_EQ(shipped().classify(huge), BounceClass::kUncategorized);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(BounceClass, SharedByThreads) {
  const BounceClassifier& rules = shipped();
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&rules, &wrong, t] {
      for (int i = 0; i < 2000; ++i) {
        wrong[t] += rules.classify("550 5.1.1 user unknown") != BounceClass::kInvalidRecipient;
        wrong[t] += rules.classify("452 4.2.2 mailbox full") != BounceClass::kQuotaIssues;
      }
    });
  }
  for (std::thread& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(BounceClass, LoadErrorsNameTheRuleAndTheProblem) {
  std::string e = load_error("[[rule]]\nclass = \"InvalidRecipient\"\nregex = 'ok'\n"
                             "[[rule]]\nclass = \"SpamBlock\"\nregex = ['fine', '(unclosed']\n");
  EXPECT_NE(e.find("test.toml: rule 2 (line 4): regex 2 '(unclosed': missing )"), std::string::npos) << e;

  e = load_error("[[rule]]\nclass = \"Bogus\"\nregex = 'x'\n");
  EXPECT_NE(e.find("test.toml: rule 1 (line 1): unknown class 'Bogus' (one of Uncategorized, InvalidRecipient"),
            std::string::npos)
      << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregexp = 'x'\n");
  EXPECT_NE(e.find("rule 1 (line 1): unknown key 'regexp'"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\n");
  EXPECT_NE(e.find("rule 1 (line 1): regex = ['...'] is missing"), std::string::npos) << e;
  e = load_error("[[rule]]\nregex = 'x'\n");
  EXPECT_NE(e.find("rule 1 (line 1): class = \"NAME\" is missing"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregex = []\n");
  EXPECT_NE(e.find("regex is an empty array"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregex = ['']\n");
  EXPECT_NE(e.find("regex 1 '': empty"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregex = [5]\n");
  EXPECT_NE(e.find("regex must be a string or an array of strings"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregex = '(a)\\1'\n");  // RE2 has no backreferences
  EXPECT_NE(e.find("rule 1 (line 1): regex 1 '(a)\\1': invalid escape sequence"), std::string::npos) << e;
  e = load_error("[[rule]]\nclass = \"SpamBlock\"\nregex = '" + std::string(5000, 'a') + "'\n");
  EXPECT_NE(e.find("longer than 4096 bytes"), std::string::npos) << e;
  e = load_error("rule = 5\n");
  EXPECT_NE(e.find("test.toml: no [[rule]] tables"), std::string::npos) << e;
  e = load_error("rule = [5]\n");
  EXPECT_NE(e.find("test.toml: rule 1 (line 1): must be a [[rule]] table"), std::string::npos) << e;
  e = load_error("");
  EXPECT_NE(e.find("no [[rule]] tables"), std::string::npos) << e;
  e = load_error("[rules]\nInvalidRecipient = ['x']\n");  // KumoMTA's layout: not this one
  EXPECT_NE(e.find("unknown key 'rules'"), std::string::npos) << e;
  e = load_error("[[rule]\n");
  EXPECT_NE(e.find("test.toml:1:"), std::string::npos) << e;
}

TEST(BounceClass, LoadFile) {
  auto missing = BounceClassifier::load_file("/nonexistent/bounce.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "bounce classes /nonexistent/bounce.toml: cannot read the file: No such file or directory");

  char path[] = "/tmp/ringmta-bounce-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "[[rule]]\nclass = \"QuotaIssues\"\nregex = '(?i)over quota'\n";
  auto ok = BounceClassifier::load_file(path);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->classify("552 User Over Quota"), BounceClass::kQuotaIssues);

  std::ofstream(path) << "[[rule]]\nclass = \"QuotaIssues\"\nregex = '['\n";
  auto bad = BounceClassifier::load_file(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(std::string("bounce classes ") + path + ": rule 1 (line 1): regex 1 '['"),
            std::string::npos)
      << bad.status();
  std::remove(path);
}

}  // namespace
}  // namespace ringmta

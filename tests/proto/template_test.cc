// tests/proto/template_test.cc — {{name}} parsing, lookup order, header
// injection refusal and CRLF normalization.
#include "proto/template.h"

#include <string>

#include <gtest/gtest.h>

namespace ringmta::proto {
namespace {

std::string render_ok(const Template& t, const Substitutions& r, const Substitutions& g = {}) {
  std::string out;
  absl::Status s = t.render(r, g, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(TemplateTest, RecipientValueOverGlobalValue) {
  Template t = Template::parse("Hi {{name}}, code {{code}}.", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {{"name", "Ann"}, {"code", "A1"}}, {{"code", "default"}}),
            "Hi Ann, code A1.");
  EXPECT_EQ(render_ok(t, {{"name", "Bob"}}, {{"code", "default"}}), "Hi Bob, code default.");
}

TEST(TemplateTest, UnknownNameRendersEmpty) {
  Template t = Template::parse("[{{nobody}}]", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {}), "[]");
}

TEST(TemplateTest, BlanksInsideBracesAndNameCharacters) {
  Template t = Template::parse("{{ a.b-c_9 }}|{{\tx\t}}", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {{"a.b-c_9", "1"}, {"x", "2"}}), "1|2");
}

TEST(TemplateTest, WhatIsNotAVariableIsLiteral) {
  for (const char* s : {"{{", "{{name", "{{name}", "{{}}", "{{a b}}", "{{a!}}", "}}{{", "{ {a}}",
                        "{{name}\n}"}) {
    Template t = Template::parse(s, TemplateKind::kBody);
    EXPECT_FALSE(t.has_variables()) << s;
    EXPECT_EQ(render_ok(t, {{"name", "X"}, {"a", "X"}}), s);
  }
  std::string long_name(kMaxVariableName + 1, 'a');
  EXPECT_FALSE(Template::parse("{{" + long_name + "}}", TemplateKind::kBody).has_variables());
  EXPECT_TRUE(Template::parse("{{" + long_name.substr(1) + "}}", TemplateKind::kBody).has_variables());
}

TEST(TemplateTest, TripleBracesKeepTheOuterBraces) {
  Template t = Template::parse("{{{x}}}", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {{"x", "v"}}), "{v}");
}

TEST(TemplateTest, ValuesAreNotRescanned) {
  Template t = Template::parse("{{a}}", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {{"a", "{{b}}"}, {"b", "no"}}), "{{b}}");
}

TEST(TemplateTest, SegmentsAreParsedOnce) {
  Template t = Template::parse("a{{x}}b{{y}}{{x}}", TemplateKind::kBody);
  ASSERT_EQ(t.segments().size(), 5u);
  EXPECT_FALSE(t.segments()[0].variable);
  EXPECT_EQ(t.segments()[1].text, "x");
  EXPECT_EQ(t.segments()[2].text, "b");
  EXPECT_TRUE(t.segments()[4].variable);
}

TEST(TemplateTest, RawMessageHeaderValuesMustNotBreakLines) {
  Template t = Template::parse("Subject: Hello {{name}}\r\n\r\nHi {{name}}\r\n",
                               TemplateKind::kRawMessage);
  ASSERT_EQ(t.segments().size(), 5u);
  EXPECT_TRUE(t.segments()[1].in_header);
  EXPECT_FALSE(t.segments()[3].in_header);
  for (const char* evil : {"x\r\nBcc: victim@example.org", "x\nBcc: y", "x\rBcc: y"}) {
    std::string out;
    absl::Status s = t.render({{"name", evil}}, {}, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("{{name}}"), std::string::npos) << s;
  }
  // The same value may go in the body, where it becomes CRLF lines.
  Template body_only = Template::parse("Subject: hi\n\nHi {{name}}\n", TemplateKind::kRawMessage);
  EXPECT_EQ(render_ok(body_only, {{"name", "a\nb\rc\r\nd"}}),
            "Subject: hi\r\n\r\nHi a\r\nb\r\nc\r\nd\r\n");
}

TEST(TemplateTest, GlobalValuesAreCheckedToo) {
  Template t = Template::parse("Subject: {{s}}\r\n\r\n", TemplateKind::kRawMessage);
  std::string out;
  EXPECT_FALSE(t.render({}, {{"s", "a\nb"}}, &out).ok());
  // A recipient value without line breaks hides the bad global one.
  EXPECT_EQ(render_ok(t, {{"s", "fine"}}, {{"s", "a\nb"}}), "Subject: fine\r\n\r\n");
}

TEST(TemplateTest, NoEmptyLineMeansAllHeader) {
  Template t = Template::parse("Subject: {{s}}\r\nX: {{t}}", TemplateKind::kRawMessage);
  EXPECT_TRUE(t.segments()[1].in_header);
  EXPECT_TRUE(t.segments()[3].in_header);
}

TEST(TemplateTest, LeadingEmptyLineMeansNoHeader) {
  Template t = Template::parse("\n{{s}}", TemplateKind::kRawMessage);
  EXPECT_FALSE(t.segments()[1].in_header);
  EXPECT_EQ(render_ok(t, {{"s", "a\nb"}}), "\r\na\r\nb");
}

TEST(TemplateTest, RawMessageLiteralsBecomeCrlf) {
  Template t = Template::parse("A: 1\nB: 2\r\r\nbody\rmore\n", TemplateKind::kRawMessage);
  EXPECT_EQ(render_ok(t, {}), "A: 1\r\nB: 2\r\n\r\nbody\r\nmore\r\n");
}

TEST(TemplateTest, HeaderValueKindRefusesLineBreaks) {
  Template t = Template::parse("Hello {{name}}", TemplateKind::kHeaderValue);
  std::string out;
  EXPECT_FALSE(t.render({{"name", "a\r\nb"}}, {}, &out).ok());
  EXPECT_EQ(render_ok(t, {{"name", "Ann"}}), "Hello Ann");
}

TEST(TemplateTest, BodyKindCopiesAsIs) {
  Template t = Template::parse("a\n{{x}}", TemplateKind::kBody);
  EXPECT_EQ(render_ok(t, {{"x", "b\nc"}}), "a\nb\nc");
}

TEST(TemplateTest, HeaderSectionEnd) {
  EXPECT_EQ(header_section_end("A: b\r\n\r\nx"), 8u);
  EXPECT_EQ(header_section_end("A: b\n\nx"), 6u);
  EXPECT_EQ(header_section_end("A: b\r\rx"), 6u);
  EXPECT_EQ(header_section_end("\r\nx"), 2u);
  EXPECT_EQ(header_section_end("A: b\r\n"), std::string_view::npos);
  EXPECT_EQ(header_section_end(""), std::string_view::npos);
}

TEST(TemplateTest, AppendCrlf) {
  std::string out;
  append_crlf("a\nb\r\nc\rd\r", &out);
  EXPECT_EQ(out, "a\r\nb\r\nc\r\nd\r\n");
}

TEST(TemplateTest, ValidVariableName) {
  EXPECT_TRUE(valid_variable_name("first_name"));
  EXPECT_TRUE(valid_variable_name("a.b-c"));
  EXPECT_FALSE(valid_variable_name(""));
  EXPECT_FALSE(valid_variable_name("a b"));
  EXPECT_FALSE(valid_variable_name("ä"));
  EXPECT_FALSE(valid_variable_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace ringmta::proto

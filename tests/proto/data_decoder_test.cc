// tests/proto/data_decoder_test.cc — DATA/BDAT body decoding, fed whole and
// in pieces; every piece size must give the same result.
#include "proto/data_decoder.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/proto/fragments.h"

namespace ringmta::proto {
namespace {

using testing::kFragmentSizes;
using testing::split;

struct Decoded {
  std::string body;
  bool done = false;
  size_t used = 0;  // octets up to and including the end marker
  bool too_big = false;
  bool long_lines = false;
  uint64_t size = 0;
  bool operator==(const Decoded&) const = default;
};

Decoded decode_pieces(std::string_view in, size_t fragment, BodyDecoder::Mode mode,
                      uint64_t max_size, size_t max_line) {
  BodyDecoder d(mode, max_size, max_line);
  Decoded r;
  for (std::string_view piece : split(in, fragment)) {
    size_t used = d.consume(piece, &r.body);
    r.used += used;
    if (d.done()) {
      break;
    }
    EXPECT_EQ(used, piece.size());
  }
  if (mode == BodyDecoder::Mode::kBdat) {
    d.finish(&r.body);
  }
  r.done = d.done();
  r.too_big = d.too_big();
  r.long_lines = d.has_long_lines();
  r.size = d.size();
  return r;
}

// only_crlf: every CR is followed by LF and every LF preceded by CR.
bool only_crlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) {
      return false;
    }
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      return false;
    }
  }
  return true;
}

// decode checks that every fragmentation agrees, then returns the result.
Decoded decode(std::string_view in, BodyDecoder::Mode mode = BodyDecoder::Mode::kData,
               uint64_t max_size = 1 << 20, size_t max_line = 1000) {
  Decoded whole = decode_pieces(in, 0, mode, max_size, max_line);
  for (size_t size : kFragmentSizes) {
    EXPECT_EQ(decode_pieces(in, size, mode, max_size, max_line), whole)
        << "fragment size " << size;
  }
  return whole;
}

TEST(DataDecoderTest, EndsAtCrLfDotCrLf) {
  Decoded d = decode("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(d.used, 23u);
}

TEST(DataDecoderTest, FirstLineFollowsDatasCrLf) {
  Decoded d = decode(".\r\nrest");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.used, 3u);
}

TEST(DataDecoderTest, DotUnstuffing) {
  Decoded d = decode("..hidden\r\n.a\r\n...\r\nx.y\r\n.\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, ".hidden\r\na\r\n..\r\nx.y\r\n");
}

TEST(DataDecoderTest, SmugglingVariantsNeverEnd) {
  // Each must be kept as text (line breaks normalized), never end the data.
  const char* attempts[] = {
      "a\n.\nb",   "a\n.\r\nb", "a\r.\rb",   "a\r\n.\nb", "a\r.\r\nb",
      "a\n.\rb",   "a\r\n.\rb", "a\r\r\n.\n", "a\n\r.\r\nb",
  };
  for (const char* attempt : attempts) {
    SCOPED_TRACE(::testing::PrintToString(std::string(attempt)));
    Decoded d = decode(attempt);
    EXPECT_FALSE(d.done);
    EXPECT_TRUE(only_crlf(d.body));
  }
  EXPECT_EQ(decode("a\n.\nb").body, "a\r\n.\r\nb");
  EXPECT_EQ(decode("a\r\n.\nb").body, "a\r\n\r\nb");  // real line start: dot dropped
  EXPECT_EQ(decode("a\r.\r\nb").body, "a\r\n.\r\nb");
  EXPECT_EQ(decode("a\r\n.\rb").body, "a\r\n\r\nb");
  // After the smuggled marker, a real one still ends it.
  Decoded d = decode("a\n.\nMAIL FROM:<x@y>\r\n.\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "a\r\n.\r\nMAIL FROM:<x@y>\r\n");
}

TEST(DataDecoderTest, BareCrAndLfBecomeCrLf) {
  Decoded d = decode("a\rb\nc\r\r\nd\n\ne\r\n.\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "a\r\nb\r\nc\r\n\r\nd\r\n\r\ne\r\n");
  EXPECT_TRUE(only_crlf(d.body));
}

TEST(DataDecoderTest, DotCrCrLf) {
  Decoded d = decode("x\r\n.\r\r\n.\r\n");
  EXPECT_TRUE(d.done);
  // ".<CR>" is an empty line; the CRLF after that bare CR ends another.
  EXPECT_EQ(d.body, "x\r\n\r\n\r\n");
}

TEST(DataDecoderTest, SizeLimitStopsAppendingButFindsTheEnd) {
  std::string body(100, 'x');
  Decoded d = decode(body + "\r\n" + body + "\r\n.\r\nNEXT", BodyDecoder::Mode::kData, 150);
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.too_big);
  EXPECT_EQ(d.body.size(), 150u);
  EXPECT_EQ(d.size, 204u);
  EXPECT_FALSE(decode(body + "\r\n.\r\n", BodyDecoder::Mode::kData, 102).too_big);
  EXPECT_TRUE(decode(body + "\r\n.\r\n", BodyDecoder::Mode::kData, 101).too_big);
}

TEST(DataDecoderTest, LongLines) {
  std::string ok(998, 'x'), long_line(999, 'x');
  EXPECT_FALSE(decode(ok + "\r\n.\r\n").long_lines);
  EXPECT_TRUE(decode(long_line + "\r\n.\r\n").long_lines);
  EXPECT_TRUE(decode("." + ok + "\r\n.\r\n").long_lines);  // the stuffed dot counts
  EXPECT_FALSE(decode(ok + "\n" + ok + "\r" + ok + "\r\n.\r\n").long_lines);
  // The end marker's dot is not a line of the message.
  EXPECT_FALSE(decode("\r\n.\r\n", BodyDecoder::Mode::kData, 100, 2).long_lines);
  EXPECT_TRUE(decode("\r\n.\rx\r\n.\r\n", BodyDecoder::Mode::kData, 100, 2).long_lines);
}

TEST(DataDecoderTest, IncompleteInputIsNotDone) {
  for (const char* in : {"", "abc", "abc\r\n", "abc\r\n.", "abc\r\n.\r"}) {
    EXPECT_FALSE(decode(in).done) << in;
  }
}

TEST(BdatDecoderTest, NormalizesWithoutDotHandling) {
  Decoded d = decode(".a\r\n.\r\nb\nc\rd", BodyDecoder::Mode::kBdat);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.body, ".a\r\n.\r\nb\r\nc\r\nd");
  EXPECT_EQ(decode("x\r", BodyDecoder::Mode::kBdat).body, "x\r\n");
}

TEST(BdatDecoderTest, CrAtChunkBoundaryJoinsTheNextChunk) {
  BodyDecoder d(BodyDecoder::Mode::kBdat, 1000, 1000);
  std::string out;
  d.consume("a\r", &out);
  d.consume("\nb", &out);
  d.finish(&out);
  EXPECT_EQ(out, "a\r\nb");
}

TEST(BdatDecoderTest, SizeLimit) {
  EXPECT_TRUE(decode(std::string(11, 'x'), BodyDecoder::Mode::kBdat, 10).too_big);
  EXPECT_FALSE(decode(std::string(10, 'x'), BodyDecoder::Mode::kBdat, 10).too_big);
}

TEST(DataDecoderTest, ResetStartsOver) {
  BodyDecoder d(BodyDecoder::Mode::kData, 10, 1000);
  std::string out;
  d.consume(std::string(20, 'x') + "\r\n.\r\n", &out);
  EXPECT_TRUE(d.done());
  EXPECT_TRUE(d.too_big());
  d.reset(BodyDecoder::Mode::kData);
  out.clear();
  EXPECT_EQ(d.consume(".\r\n", &out), 3u);
  EXPECT_TRUE(d.done());
  EXPECT_FALSE(d.too_big());
}

}  // namespace
}  // namespace ringmta::proto

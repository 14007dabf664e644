#include "spool/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace ringmta::spool {
namespace {

TEST(Crc32c, KnownValues) {
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c("a"), 0xC1D04330u);
}

// RFC 3720 appendix B.4 vectors.
TEST(Crc32c, Rfc3720Vectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  std::string ones(32, '\xFF');
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  std::string inc(32, '\0');
  std::string dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<char>(i);
    dec[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; ++i) {
    data.push_back(static_cast<char>(i * 7 + 3));
  }
  const uint32_t whole = crc32c(data);
  for (size_t cut = 0; cut <= data.size(); cut += 37) {
    std::string_view a = std::string_view(data).substr(0, cut);
    std::string_view b = std::string_view(data).substr(cut);
    EXPECT_EQ(crc32c_extend(crc32c(a), b), whole) << cut;
  }
}

TEST(Crc32c, PortableMatchesHardware) {
  std::string data;
  for (int i = 0; i < 4099; ++i) {
    data.push_back(static_cast<char>(i * 131 + 17));
  }
  for (size_t len : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099}) {
    for (size_t start : {0, 1, 3}) {
      if (start + len > data.size()) {
        continue;
      }
      const char* p = data.data() + start;
      EXPECT_EQ(crc32c_extend_portable(0, p, len), crc32c_extend(0, p, len)) << len;
    }
  }
  EXPECT_EQ(crc32c_extend_portable(0, "123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace ringmta::spool

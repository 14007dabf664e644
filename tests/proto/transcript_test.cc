// tests/proto/transcript_test.cc — golden transcripts, Postfix style: each
// transcripts/NAME.in holds the client's bytes exactly as sent, NAME.ref the
// exact server output. Each pair runs whole and in every fragment size, with
// the fixed clock and queue ids of test_config(), every ready message stored.
// Pairs named tls_* run with tls_test_config() (STARTTLS and AUTH offered).
//
// RINGMTA_UPDATE_GOLDEN=1 rewrites the .ref files (review the diff!).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/proto/fragments.h"
#include "tests/proto/session_harness.h"

namespace ringmta::proto {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<fs::path> inputs() {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(RINGMTA_TRANSCRIPT_DIR)) {
    if (entry.path().extension() == ".in") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(TranscriptTest, EveryPairMatches) {
  const bool update = std::getenv("RINGMTA_UPDATE_GOLDEN") != nullptr;
  std::vector<fs::path> paths = inputs();
  ASSERT_GE(paths.size(), 10u) << RINGMTA_TRANSCRIPT_DIR;
  for (const fs::path& in_path : paths) {
    SCOPED_TRACE(in_path.filename().string());
    fs::path ref_path = in_path;
    ref_path.replace_extension(".ref");
    const std::string input = read_file(in_path);
    const bool tls = in_path.filename().string().rfind("tls_", 0) == 0;
    auto config = [tls] { return tls ? testing::tls_test_config() : testing::test_config(); };
    if (update) {
      std::ofstream(ref_path, std::ios::binary)
          << testing::run_session(config(), input).output;
    }
    const std::string ref = read_file(ref_path);
    ASSERT_FALSE(ref.empty()) << "missing " << ref_path;
    for (size_t size : testing::kFragmentSizes) {
      testing::RunOptions options;
      options.fragment = size;
      EXPECT_EQ(testing::run_session(config(), input, options).output, ref)
          << "fragment size " << size;
    }
  }
}

}  // namespace
}  // namespace ringmta::proto

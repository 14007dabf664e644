// tests/proto/client_transcript_test.cc — golden transcripts for the SMTP
// client: client_transcripts/NAME.in holds the server's bytes exactly as
// sent, NAME.script what the engine does (messages to send, quit, a lost
// connection), NAME.ref the exact client output and NAME.result the
// per-recipient results. Each runs whole and in every fragment size.
//
// RINGMTA_UPDATE_GOLDEN=1 rewrites the .ref and .result files (review the diff!).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/proto/client_harness.h"
#include "tests/proto/fragments.h"

namespace ringmta::proto {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

fs::path with_extension(fs::path path, const char* extension) {
  path.replace_extension(extension);
  return path;
}

TEST(ClientTranscriptTest, EveryTranscriptMatches) {
  const bool update = std::getenv("RINGMTA_UPDATE_GOLDEN") != nullptr;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(RINGMTA_CLIENT_TRANSCRIPT_DIR)) {
    if (entry.path().extension() == ".in") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_GE(paths.size(), 15u) << RINGMTA_CLIENT_TRANSCRIPT_DIR;
  for (const fs::path& in_path : paths) {
    SCOPED_TRACE(in_path.filename().string());
    ClientConfig config;
    config.helo_name = "client.test";
    std::vector<testing::ClientAction> actions;
    std::string error;
    ASSERT_TRUE(testing::parse_script(read_file(with_extension(in_path, ".script")), &config,
                                      &actions, &error))
        << error;
    const std::string server = read_file(in_path);
    const fs::path ref_path = with_extension(in_path, ".ref");
    const fs::path result_path = with_extension(in_path, ".result");
    if (update) {
      testing::ClientRun run = testing::run_client(config, server, actions);
      std::ofstream(ref_path, std::ios::binary) << run.output;
      std::ofstream(result_path, std::ios::binary) << testing::render_results(run, actions);
    }
    const std::string ref = read_file(ref_path);
    const std::string result = read_file(result_path);
    ASSERT_FALSE(result.empty()) << "missing " << result_path;
    for (size_t size : testing::kFragmentSizes) {
      testing::ClientRun run = testing::run_client(config, server, actions, size);
      EXPECT_EQ(run.output, ref) << "fragment size " << size;
      EXPECT_EQ(testing::render_results(run, actions), result) << "fragment size " << size;
    }
  }
}

}  // namespace
}  // namespace ringmta::proto

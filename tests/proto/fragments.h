// tests/proto/fragments.h — feeding an input whole and in pieces.
//
// Every resumable parser is checked against the same expectations for each
// entry of kFragmentSizes (0 means the whole input in one piece).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace ringmta::proto::testing {

inline constexpr size_t kFragmentSizes[] = {0, 1000, 100, 10, 2, 1};

// split cuts `in` into pieces of `size` octets (the last may be shorter);
// size 0 gives the whole input as one piece.
inline std::vector<std::string_view> split(std::string_view in, size_t size) {
  std::vector<std::string_view> pieces;
  if (size == 0 || in.empty()) {
    pieces.push_back(in);
    return pieces;
  }
  for (size_t pos = 0; pos < in.size(); pos += size) {
    pieces.push_back(in.substr(pos, size));
  }
  return pieces;
}

}  // namespace ringmta::proto::testing

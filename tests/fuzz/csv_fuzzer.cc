// tests/fuzz/csv_fuzzer.cc — libFuzzer harness for ringmta-ctl's CSV reader
// (tools/ctl/csv.h), which reads files of a million lines exported from
// other systems. Whatever the input:
//   - reading never crashes and stops (every call consumes input);
//   - rows are bounded (kMaxFields fields of kMaxField octets);
//   - what was read, written back with append_csv_row and read again, is
//     the same rows (rows of one empty field aside: they are blank lines).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tools/ctl/csv.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::vector<std::vector<std::string>> read_all(std::string_view text, bool* error) {
  ringmta::ctl::CsvReader r(text);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  while (r.next(&row)) {
    check(row.size() <= ringmta::ctl::CsvReader::kMaxFields + 1);
    for (const std::string& f : row) check(f.size() <= ringmta::ctl::CsvReader::kMaxField + 1);
    if (!(row.size() == 1 && row[0].empty())) rows.push_back(row);
    check(rows.size() <= text.size() + 1);
  }
  *error = !r.error().empty();
  return rows;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bool error = false;
  const auto rows = read_all(text, &error);
  std::string out;
  for (const auto& row : rows) {
    std::vector<std::string_view> fields(row.begin(), row.end());
    ringmta::ctl::append_csv_row(&out, fields);
  }
  bool error2 = false;
  const auto again = read_all(out, &error2);
  check(!error2);
  check(again == rows);
  return 0;
}

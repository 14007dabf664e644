#include "spool/retire_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "spool/errors.h"
#include "spool/layout.h"

namespace ringmta::spool {
namespace {

// relative_name: "shard-N/seg-X.log" for a segment path under root, or ""
// when the path is not one (every entry is checked: the list is input).
std::string relative_name(const std::string& root, std::string_view path) {
  const std::string prefix = root + "/";
  if (!path.starts_with(prefix)) {
    return "";
  }
  std::string_view rel = path.substr(prefix.size());
  return valid_entry(rel) ? std::string(rel) : "";
}

absl::Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_status("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// unlink_all removes every listed segment, then fsyncs each directory.
absl::Status unlink_all(const std::string& root, const std::vector<std::string>& rel) {
  std::set<std::string> dirs;
  for (const std::string& r : rel) {
    const std::string path = absl::StrCat(root, "/", r);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
      return errno_status("unlink", path);
    }
    dirs.insert(absl::StrCat(root, "/", r.substr(0, r.find('/'))));
  }
  for (const std::string& d : dirs) {
    SPOOL_RETURN_IF_ERROR(sync_dir(d));
  }
  return absl::OkStatus();
}

absl::Status remove_list(const std::string& root) {
  const std::string list = absl::StrCat(root, "/", kRetireListName);
  if (::unlink(list.c_str()) < 0 && errno != ENOENT) {
    return errno_status("unlink", list);
  }
  return sync_dir(root);
}

absl::StatusOr<std::vector<std::string>> read_relative(const std::string& root) {
  const std::string list = absl::StrCat(root, "/", kRetireListName);
  std::vector<std::string> out;
  std::ifstream f(list);
  if (!f) {
    if (::access(list.c_str(), F_OK) < 0 && errno == ENOENT) {
      return out;
    }
    return errno_status("open", list);
  }
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty()) {
      continue;
    }
    if (!valid_entry(line)) {
      return absl::DataLossError(absl::StrCat(list, ": not a segment name: '", line, "'"));
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace

bool valid_entry(std::string_view rel) {
  size_t slash = rel.find('/');
  return slash != std::string_view::npos && parse_shard_dir_name(rel.substr(0, slash)) &&
         parse_segment_file_name(rel.substr(slash + 1));
}

absl::Status retire_segments(const std::string& root, const std::vector<std::string>& segment_paths) {
  std::vector<std::string> rel;
  std::string text;
  for (const std::string& p : segment_paths) {
    std::string r = relative_name(root, p);
    if (r.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("retire ", p, ": not a segment under ", root));
    }
    absl::StrAppend(&text, r, "\n");
    rel.push_back(std::move(r));
  }
  if (rel.empty()) {
    return absl::OkStatus();
  }
  const std::string tmp = absl::StrCat(root, "/", kRetireListName, ".tmp");
  const std::string list = absl::StrCat(root, "/", kRetireListName);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno_status("open", tmp);
  }
  absl::Status st = write_all(fd, text, tmp);
  if (st.ok() && ::fsync(fd) < 0) {
    st = errno_status("fsync", tmp);
  }
  ::close(fd);
  SPOOL_RETURN_IF_ERROR(st);
  // The rename is the moment the whole group counts as deleted.
  if (::rename(tmp.c_str(), list.c_str()) < 0) {
    return errno_status("rename", tmp);
  }
  SPOOL_RETURN_IF_ERROR(sync_dir(root));
  SPOOL_RETURN_IF_ERROR(unlink_all(root, rel));
  return remove_list(root);
}

absl::StatusOr<std::vector<std::string>> read_retire_list(const std::string& root) {
  absl::StatusOr<std::vector<std::string>> rel = read_relative(root);
  if (!rel.ok()) {
    return rel.status();
  }
  for (std::string& r : *rel) {
    r = absl::StrCat(root, "/", r);
  }
  return rel;
}

absl::StatusOr<size_t> finish_retire(const std::string& root) {
  // A temp list never renamed means the deletion never began: drop it.
  const std::string tmp = absl::StrCat(root, "/", kRetireListName, ".tmp");
  if (::unlink(tmp.c_str()) < 0 && errno != ENOENT) {
    return errno_status("unlink", tmp);
  }
  absl::StatusOr<std::vector<std::string>> rel = read_relative(root);
  if (!rel.ok()) {
    return rel.status();
  }
  if (rel->empty()) {
    const std::string list = absl::StrCat(root, "/", kRetireListName);
    if (::access(list.c_str(), F_OK) == 0) {
      SPOOL_RETURN_IF_ERROR(remove_list(root));
    }
    return size_t{0};
  }
  size_t present = 0;
  for (const std::string& r : *rel) {
    present += ::access(absl::StrCat(root, "/", r).c_str(), F_OK) == 0 ? 1 : 0;
  }
  SPOOL_RETURN_IF_ERROR(unlink_all(root, *rel));
  SPOOL_RETURN_IF_ERROR(remove_list(root));
  return present;
}

}  // namespace ringmta::spool

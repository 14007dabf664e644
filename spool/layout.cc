#include "spool/layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spool/errors.h"

namespace ringmta::spool {
namespace {

// for_each_entry calls fn(name, d_type) for each entry of dir but . and ..
template <typename Fn>
absl::Status for_each_entry(const std::string& dir, Fn fn) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return errno_status("opendir", dir);
  }
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) {
      int err = errno;
      ::closedir(d);
      if (err != 0) {
        return errno_status(err, "readdir", dir);
      }
      return absl::OkStatus();
    }
    std::string_view name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    fn(name, e->d_type);
  }
}

bool is_dir(const std::string& path, unsigned char d_type) {
  if (d_type == DT_DIR) {
    return true;
  }
  if (d_type != DT_UNKNOWN) {
    return false;
  }
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::string shard_dir(const std::string& root, unsigned shard) {
  return absl::StrCat(root, "/shard-", shard);
}

std::string segment_file_name(uint64_t number) {
  return absl::StrFormat("seg-%016X.log", number);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  constexpr std::string_view kPrefix = "seg-", kSuffix = ".log";
  if (name.size() != kPrefix.size() + 16 + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::string_view hex = name.substr(kPrefix.size(), 16);
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) {
      return std::nullopt;
    }
  }
  uint64_t v = 0;
  std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  return v;
}

std::optional<unsigned> parse_shard_dir_name(std::string_view name) {
  constexpr std::string_view kPrefix = "shard-";
  if (!name.starts_with(kPrefix) || name.size() == kPrefix.size() ||
      name.size() > kPrefix.size() + 5) {
    return std::nullopt;
  }
  std::string_view num = name.substr(kPrefix.size());
  unsigned v = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || end != num.data() + num.size()) {
    return std::nullopt;
  }
  return v;
}

absl::StatusOr<std::vector<std::pair<unsigned, std::string>>> list_shard_dirs(
    const std::string& root) {
  std::vector<std::pair<unsigned, std::string>> out;
  absl::Status st = for_each_entry(root, [&](std::string_view name, unsigned char type) {
    std::optional<unsigned> n = parse_shard_dir_name(name);
    std::string path = root + "/" + std::string(name);
    if (n && is_dir(path, type)) {
      out.emplace_back(*n, std::move(path));
    }
  });
  if (!st.ok()) {
    return st;
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> list_segments(
    const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> out;
  absl::Status st = for_each_entry(dir, [&](std::string_view name, unsigned char) {
    if (std::optional<uint64_t> n = parse_segment_file_name(name)) {
      out.emplace_back(*n, dir + "/" + std::string(name));
    }
  });
  if (!st.ok()) {
    return st;
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) {
    return absl::InvalidArgumentError("mkdir: empty path");
  }
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') {
      continue;
    }
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST) {
      return errno_status("mkdir", part);
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) {
    return errno_status("stat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("mkdir ", path, ": not a directory"));
  }
  return absl::OkStatus();
}

absl::Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_status("open", dir);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc < 0) {
    return errno_status(err, "fsync", dir);
  }
  return absl::OkStatus();
}

}  // namespace ringmta::spool

#include "spool/spool_lock.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/spool/test_util.h"

namespace ringmta::spool {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(SpoolLock, CreatesRootAndLocks) {
  TempDir tmp;
  const std::string root = tmp.path() + "/a/b/spool";
  auto lock = SpoolLock::acquire(root);
  ASSERT_TRUE(lock.ok()) << lock.status();
  struct stat st;
  ASSERT_EQ(::stat(root.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(lock->path(), root + "/lock");
}

TEST(SpoolLock, HeldTwiceFailsNamingThePid) {
  TempDir tmp;
  auto first = SpoolLock::acquire(tmp.path());
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = SpoolLock::acquire(tmp.path());
  ASSERT_FALSE(second.ok());
  const std::string msg(second.status().message());
  EXPECT_THAT(msg, HasSubstr(absl::StrCat("(pid ", ::getpid(), ")")));
  EXPECT_THAT(msg, HasSubstr("in use by another ringmta"));
  EXPECT_THAT(msg, HasSubstr(tmp.path()));
  EXPECT_THAT(msg, HasSubstr("--spool"));
  EXPECT_THAT(msg, HasSubstr("flock"));
}

TEST(SpoolLock, ReleasedOnDestructionAndMove) {
  TempDir tmp;
  {
    auto a = SpoolLock::acquire(tmp.path());
    ASSERT_TRUE(a.ok());
    SpoolLock moved = std::move(*a);
    EXPECT_FALSE(SpoolLock::acquire(tmp.path()).ok());
  }
  EXPECT_TRUE(SpoolLock::acquire(tmp.path()).ok());
}

TEST(SpoolLock, UnusableRootNamesThePath) {
  TempDir tmp;
  const std::string file = tmp.path() + "/plain";
  FILE* f = ::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ::fclose(f);
  auto lock = SpoolLock::acquire(file + "/spool");
  ASSERT_FALSE(lock.ok());
  EXPECT_THAT(std::string(lock.status().message()), HasSubstr(file));
}

}  // namespace
}  // namespace ringmta::spool

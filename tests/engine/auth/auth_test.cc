// tests/engine/auth/auth_test.cc — the AUTH user list (parsing, yescrypt and
// sha512-crypt checks through libcrypt) and the auth thread's hand-offs.
#include <crypt.h>
#include <sys/eventfd.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/auth/auth_service.h"
#include "engine/auth/auth_users.h"

namespace ringmta {
namespace {

// hash makes a real crypt hash with a fresh salt of the given method.
std::string hash(const char* prefix, const char* password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, 0, nullptr, 0, salt, sizeof salt), nullptr);
  crypt_data data{};
  const char* out = crypt_rn(password, salt, &data, sizeof data);
  EXPECT_NE(out, nullptr);
  return out;
}

TEST(AuthUsersTest, ChecksYescryptAndSha512) {
  std::string text = "# users\n\napp1:" + hash("$y$", "one") + "\r\napp2:" + hash("$6$", "two") + "\n";
  absl::StatusOr<AuthUsers> users = AuthUsers::parse(text, "users");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(users->size(), 2u);
  EXPECT_TRUE(users->check("app1", "one"));
  EXPECT_TRUE(users->check("app2", "two"));
  EXPECT_FALSE(users->check("app1", "two"));
  EXPECT_FALSE(users->check("app1", ""));
  EXPECT_FALSE(users->check("APP1", "one"));  // user names are exact
  EXPECT_FALSE(users->check("nobody", "one"));
}

TEST(AuthUsersTest, ErrorsNameTheLine) {
  const std::string good = "ok:" + hash("$6$", "x") + "\n";
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {good + "no-colon\n", "users line 2: expected user:hash"},
      {good + ":" + hash("$6$", "x") + "\n", "line 2: the user name must be 1 to 255 bytes"},
      {good + "a b:" + hash("$6$", "x") + "\n", "line 2: the user name has a space"},
      {good + "ok:" + hash("$6$", "y") + "\n", "line 2: user 'ok' is listed twice"},
      {"u:plaintext\n", "line 1: not a crypt hash"},
      {"u:$1$abcdefgh$0123456789abcdefghijkl\n", "line 1: legacy hash"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AuthUsers> users = AuthUsers::parse(c.text, "users");
    ASSERT_FALSE(users.ok()) << c.text;
    EXPECT_NE(users.status().message().find(c.expect), std::string::npos) << users.status();
  }
}

TEST(AuthUsersTest, AnEmptyListRefusesEveryone) {
  absl::StatusOr<AuthUsers> users = AuthUsers::parse("# nobody yet\n", "users");
  ASSERT_TRUE(users.ok());
  EXPECT_FALSE(users->check("", ""));
  EXPECT_FALSE(users->check("a", "b"));
}

// wait_readable waits (bounded) for an eventfd to signal.
bool wait_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 10000) == 1;
}

TEST(AuthServiceTest, VerdictsComeBackToTheirShard) {
  std::string text = "app:" + hash("$6$", "pw") + "\n";
  absl::StatusOr<AuthUsers> users = AuthUsers::parse(text, "users");
  ASSERT_TRUE(users.ok());
  AuthService auth(std::move(*users), 2);
  ASSERT_TRUE(auth.submit(1, {7, 70, "app", "pw"}));
  ASSERT_TRUE(auth.submit(0, {3, 30, "app", "nope"}));
  ASSERT_TRUE(auth.submit(1, {8, 80, "who", "pw"}));
  std::vector<AuthVerdict> got0, got1;
  while (got0.size() < 1 || got1.size() < 2) {
    ASSERT_TRUE(wait_readable(auth.ready_fd(0)) || wait_readable(auth.ready_fd(1)));
    while (auto v = auth.take(0)) got0.push_back(*v);
    while (auto v = auth.take(1)) got1.push_back(*v);
  }
  ASSERT_EQ(got0.size(), 1u);
  EXPECT_EQ(got0[0].slot, 3u);
  EXPECT_EQ(got0[0].gen, 30u);
  EXPECT_FALSE(got0[0].ok);
  ASSERT_EQ(got1.size(), 2u);
  EXPECT_EQ(got1[0].slot, 7u);
  EXPECT_TRUE(got1[0].ok);
  EXPECT_EQ(got1[1].slot, 8u);
  EXPECT_FALSE(got1[1].ok);
}

TEST(AuthServiceTest, ABoundedQueueAndReplacedUsers) {
  absl::StatusOr<AuthUsers> none = AuthUsers::parse("", "users");
  ASSERT_TRUE(none.ok());
  AuthService auth(std::move(*none), 1);
  size_t accepted = 0;
  while (auth.submit(0, {0, 0, "u", "p"})) {
    ++accepted;
    ASSERT_LE(accepted, AuthService::kMaxPending);
  }
  EXPECT_EQ(accepted, AuthService::kMaxPending);
  size_t taken = 0;
  while (taken < accepted) {
    ASSERT_TRUE(wait_readable(auth.ready_fd(0)));
    while (auto v = auth.take(0)) {
      EXPECT_FALSE(v->ok);
      ++taken;
    }
  }
  absl::StatusOr<AuthUsers> some = AuthUsers::parse("u:" + hash("$6$", "p") + "\n", "users");
  ASSERT_TRUE(some.ok());
  auth.replace_users(std::move(*some));
  ASSERT_TRUE(auth.submit(0, {1, 1, "u", "p"}));
  std::optional<AuthVerdict> v;
  while (!v) {
    ASSERT_TRUE(wait_readable(auth.ready_fd(0)));
    v = auth.take(0);
  }
  EXPECT_TRUE(v->ok);
}

}  // namespace
}  // namespace ringmta

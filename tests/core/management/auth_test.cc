#include "core/management/auth.h"

#include <gtest/gtest.h>

#include <set>

namespace scaleout::core::management {
namespace {

TEST(ManagementAuthTest, HashTokenIsUppercaseSha256) {
  EXPECT_EQ(HashToken("abc"), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
}

TEST(ManagementAuthTest, TokensAreFreshAndUrlSafe) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto token = GenerateToken();
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(token->rfind("sot_", 0), 0u);
    EXPECT_EQ(token->size(), 4u + 43u);
    EXPECT_EQ(token->find_first_of("+/= "), std::string::npos) << *token;
    EXPECT_TRUE(seen.insert(*token).second);
  }
}

TEST(ManagementAuthTest, DirectoryFindsByTokenAndName) {
  PrincipalDirectory directory;
  directory.Replace({{"alice", "token", HashToken("secret-a"), {"ssis_admin"}, 0},
                     {"bob", "certificate", std::string(64, 'B'), {"ssis_reader"}, 0}});
  auto alice = directory.FindByToken("secret-a");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_TRUE(alice->HasRole("ssis_admin"));
  EXPECT_FALSE(directory.FindByToken("secret-b").has_value());
  EXPECT_FALSE(directory.FindByToken("").has_value());
  // A certificate principal's digest is not a token.
  EXPECT_FALSE(directory.FindByToken(std::string(64, 'B')).has_value());
  ASSERT_TRUE(directory.FindByName("bob").has_value());
  EXPECT_FALSE(directory.FindByName("carol").has_value());
}

}  // namespace
}  // namespace scaleout::core::management

#include "common/status.h"

#include <gtest/gtest.h>
#include <memory>
#include <string>

namespace tide {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_TRUE(Status::ok().isOk());
  EXPECT_EQ(s.toString(), "OK");
  EXPECT_EQ(s.code(), "");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s("InvalidAMIID.NotFound", "The image id 'ami-1' does not exist");
  EXPECT_FALSE(s.isOk());
  EXPECT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(s.code(), "InvalidAMIID.NotFound");
  EXPECT_EQ(s.message(), "The image id 'ami-1' does not exist");
  EXPECT_EQ(s.toString(), "InvalidAMIID.NotFound: The image id 'ami-1' does not exist");
}

TEST(StatusTest, CommonCodes) {
  EXPECT_EQ(validationError("bad").code(), "ValidationError");
  EXPECT_EQ(validationError("bad").message(), "bad");
  EXPECT_EQ(internalError("oops").code(), "InternalError");
}

TEST(ResultTest, HoldsValue) {
  Result<int> r(42);
  ASSERT_TRUE(r.isOk());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(ResultTest, StatusOfValueIsOk) {
  Result<std::string> r(std::string("v"));
  EXPECT_TRUE(r.status().isOk());
}

TEST(ResultTest, HoldsError) {
  Result<std::string> r(validationError("missing name"));
  EXPECT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), "ValidationError");
  EXPECT_EQ(r.status().message(), "missing name");
}

TEST(ResultTest, ArrowAndMoveOut) {
  Result<std::string> r(std::string("hello"));
  EXPECT_EQ(r->size(), 5u);
  std::string moved = std::move(r).value();
  EXPECT_EQ(moved, "hello");

  Result<std::unique_ptr<int>> p(std::make_unique<int>(3));
  std::unique_ptr<int> owned = std::move(p).value();
  EXPECT_EQ(*owned, 3);
}

Status failsWhen(bool fail) {
  return fail ? Status("Throttling", "slow down") : Status::ok();
}

Status chain(bool fail, bool& reachedEnd) {
  TIDE_RETURN_IF_ERROR(failsWhen(fail));
  reachedEnd = true;
  return Status::ok();
}

TEST(StatusTest, ReturnIfError) {
  bool reached = false;
  Status s = chain(true, reached);
  EXPECT_EQ(s.code(), "Throttling");
  EXPECT_FALSE(reached);
  EXPECT_TRUE(chain(false, reached).isOk());
  EXPECT_TRUE(reached);
}

} // namespace
} // namespace tide

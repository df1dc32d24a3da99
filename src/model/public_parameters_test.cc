#include "model/public_parameters.h"

#include "common/ids.h"

#include <gtest/gtest.h>

namespace tide::model {
namespace {

TEST(PublicParametersTest, SortedAndNamingTheBaseImage) {
  auto all = publicParameters();
  ASSERT_FALSE(all.empty());
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].name, all[i].name);
  }
  EXPECT_TRUE(isIdOf(kBaseImageId, "ami"));
  const PublicParameter* p =
      findPublicParameter("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->value, kBaseImageId);
  EXPECT_EQ(p->dataType, "aws:ec2:image");
  EXPECT_NE(findPublicParameter("/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"),
            nullptr);
  EXPECT_EQ(findPublicParameter("/aws/service/ami-amazon-linux-latest"), nullptr);
  EXPECT_EQ(findPublicParameter(""), nullptr);
}

TEST(PublicParametersTest, SelectorsAndArns) {
  ParameterSelector s = parseParameterSelector("/a/b:3");
  EXPECT_EQ(s.name, "/a/b");
  EXPECT_EQ(s.selector, "3");
  s = parseParameterSelector("arn:aws:ssm:us-east-1::parameter/aws/service/x");
  EXPECT_EQ(s.name, "/aws/service/x");
  EXPECT_EQ(s.selector, "");
  s = parseParameterSelector("arn:aws:ssm:us-east-1:000000000000:parameter/aws/x:1");
  EXPECT_EQ(s.name, "/aws/x");
  EXPECT_EQ(s.selector, "1");
}

TEST(PublicParametersTest, ResolvesImageReferences) {
  EXPECT_EQ(*resolveImageId("ami-0123456789abcdef0"), "ami-0123456789abcdef0");
  const std::string name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64";
  EXPECT_EQ(*resolveImageId("resolve:ssm:" + name), kBaseImageId);
  EXPECT_EQ(*resolveImageId("resolve:ssm:" + name + ":1"), kBaseImageId);
  EXPECT_EQ(*resolveImageId("resolve:ssm:arn:aws:ssm:us-east-1::parameter" + name), kBaseImageId);
  auto wrongVersion = resolveImageId("resolve:ssm:" + name + ":7");
  ASSERT_FALSE(wrongVersion);
  EXPECT_EQ(wrongVersion.status().code(), "InvalidParameterValue");
  auto unknown = resolveImageId("resolve:ssm:/aws/service/nothing");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.status().code(), "InvalidParameterValue");
  EXPECT_NE(unknown.status().message().find("/aws/service/nothing"), std::string::npos);
}

} // namespace
} // namespace tide::model

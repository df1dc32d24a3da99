// AWS::ElasticLoadBalancingV2::TargetGroup with ProtocolVersion GRPC and Matcher.GrpcCode: both
// pass through to CreateTargetGroup, and an update of GrpcCode to ModifyTargetGroup.
#include "stacks/stack_test_fixture.h"

namespace tide::stacks {
namespace {

TEST_F(StackEngineTest, GrpcTargetGroupsTakeProtocolVersionAndGrpcCode) {
  ok("CreateStack", request(web("      ProtocolVersion: GRPC\n"
                                "      Matcher: {GrpcCode: '0-2'}\n")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "CREATE_COMPLETE") << s.dump();
  Json tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0];
  EXPECT_EQ(tg["ProtocolVersion"], "GRPC");
  EXPECT_EQ(tg["Matcher"], Json({{"GrpcCode", "0-2"}}));

  ok("UpdateStack", request(web("      ProtocolVersion: GRPC\n"
                                "      Matcher: {GrpcCode: '0'}\n")));
  s = settle();
  ASSERT_EQ(s["StackStatus"], "UPDATE_COMPLETE") << s.dump();
  tg = ok("DescribeTargetGroups", Json::object())["TargetGroups"][0];
  EXPECT_EQ(tg["Matcher"], Json({{"GrpcCode", "0"}}));
}

TEST_F(StackEngineTest, AnHttpCodeOnAGrpcTargetGroupFailsTheStack) {
  ok("CreateStack", request(web("      ProtocolVersion: GRPC\n"
                                "      Matcher: {HttpCode: '200'}\n")));
  Json s = settle();
  ASSERT_EQ(s["StackStatus"], "ROLLBACK_COMPLETE") << s.dump();
  EXPECT_NE(s["StackStatusReason"].get<std::string>().find("ValidationError"), std::string::npos)
      << s.dump();
}

} // namespace
} // namespace tide::stacks

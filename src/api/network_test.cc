// EC2's regions, zones, account attributes, VPCs, subnets, security groups, key pairs and tags,
// through the action table over a real SQLite store.
#include "api/api_test_fixture.h"
#include "common/text.h"

#include <gtest/gtest.h>

#include <set>

namespace tide::api {
namespace {

Json filter(const std::string& name, const std::vector<std::string>& values) {
  return Json::array({{{"Name", name}, {"Values", values}}});
}

class NetworkTest : public ApiTest {
protected:
  Json defaultVpc() {
    Json vpcs = ok("DescribeVpcs", {{"Filters", filter("is-default", {"true"})}})["Vpcs"];
    EXPECT_EQ(vpcs.size(), 1u);
    return vpcs.empty() ? Json::object() : vpcs[0];
  }
  std::string newVpc(const std::string& cidr = "10.0.0.0/16") {
    return ok("CreateVpc", {{"CidrBlock", cidr}})["Vpc"]["VpcId"];
  }
  Json group(const std::string& id) {
    Json gs = ok("DescribeSecurityGroups", {{"GroupIds", {id}}})["SecurityGroups"];
    EXPECT_EQ(gs.size(), 1u);
    return gs.empty() ? Json::object() : gs[0];
  }
};

TEST_F(NetworkTest, RegionsAreAwsCommercialOnesAndZonesAreTheRequestRegions) {
  Json regions = ok("DescribeRegions", Json::object())["Regions"];
  EXPECT_EQ(regions.size(), 17u);
  for (const Json& r : regions) {
    EXPECT_EQ(r["OptInStatus"], "opt-in-not-required");
    EXPECT_EQ(r["Endpoint"], "ec2." + r["RegionName"].get<std::string>() + ".amazonaws.com");
  }
  EXPECT_GT(ok("DescribeRegions", {{"AllRegions", true}})["Regions"].size(), 17u);
  Json one = ok("DescribeRegions", {{"RegionNames", {"eu-west-2"}}})["Regions"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["RegionName"], "eu-west-2");
  EXPECT_EQ(ok("DescribeRegions", {{"Filters", filter("region-name", {"us-*"})}})["Regions"].size(),
            4u);
  EXPECT_EQ(ok("DescribeRegions",
               {{"Filters", filter("endpoint", {"ec2.sa-east-1.amazonaws.com"})}})["Regions"]
                .size(),
            1u);
  EXPECT_EQ(errorCode("DescribeRegions", {{"RegionNames", {"moon-1"}}}), "InvalidParameterValue");
  EXPECT_EQ(errorCode("DescribeRegions", {{"Filters", filter("colour", {"x"})}}),
            "InvalidParameterValue");

  Json zones = ok("DescribeAvailabilityZones", Json::object())["AvailabilityZones"];
  ASSERT_EQ(zones.size(), 3u);
  EXPECT_EQ(zones[0]["ZoneName"], "us-east-1a");
  EXPECT_EQ(zones[0]["ZoneId"], "use1-az1");
  EXPECT_EQ(zones[2]["ZoneName"], "us-east-1c");
  EXPECT_EQ(zones[2]["ZoneId"], "use1-az3");
  EXPECT_EQ(zones[1]["State"], "available");
  EXPECT_EQ(zones[1]["ZoneType"], "availability-zone");
  EXPECT_EQ(zones[1]["RegionName"], "us-east-1");
  EXPECT_EQ(zones[1]["GroupName"], "us-east-1");
  EXPECT_EQ(zones[1]["NetworkBorderGroup"], "us-east-1");
  EXPECT_EQ(
      ok("DescribeAvailabilityZones", {{"ZoneNames", {"us-east-1b"}}})["AvailabilityZones"].size(),
      1u);
  EXPECT_EQ(ok("DescribeAvailabilityZones",
               {{"ZoneIds", {"use1-az3"}}})["AvailabilityZones"][0]["ZoneName"],
            "us-east-1c");
  EXPECT_EQ(ok("DescribeAvailabilityZones",
               {{"Filters", filter("zone-name", {"*a"})}})["AvailabilityZones"]
                .size(),
            1u);
  EXPECT_EQ(errorCode("DescribeAvailabilityZones", {{"ZoneNames", {"us-east-1z"}}}),
            "InvalidParameterValue");
  // The zones follow the request's region.
  ctx_->region = "eu-west-2";
  zones = ok("DescribeAvailabilityZones", Json::object())["AvailabilityZones"];
  EXPECT_EQ(zones[0]["ZoneName"], "eu-west-2a");
  EXPECT_EQ(zones[0]["ZoneId"], "euw2-az1");
  ctx_->region = "ap-southeast-2";
  EXPECT_EQ(ok("DescribeAvailabilityZones", Json::object())["AvailabilityZones"][1]["ZoneId"],
            "apse2-az2");
}

TEST_F(NetworkTest, AccountAttributesNameTheDefaultVpc) {
  Json attrs = ok("DescribeAccountAttributes", Json::object())["AccountAttributes"];
  std::map<std::string, std::string> byName;
  for (const Json& a : attrs) {
    byName[a["AttributeName"]] = a["AttributeValues"][0]["AttributeValue"];
  }
  EXPECT_EQ(byName["supported-platforms"], "VPC");
  EXPECT_EQ(byName["default-vpc"], defaultVpc()["VpcId"]);
  EXPECT_TRUE(byName.count("max-instances"));
  EXPECT_TRUE(byName.count("vpc-max-security-groups-per-interface"));
  EXPECT_TRUE(byName.count("max-elastic-ips"));
  EXPECT_TRUE(byName.count("vpc-max-elastic-ips"));
  Json one =
      ok("DescribeAccountAttributes", {{"AttributeNames", {"default-vpc"}}})["AccountAttributes"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(errorCode("DescribeAccountAttributes", {{"AttributeNames", {"max-dragons"}}}),
            "InvalidParameterValue");
}

TEST_F(NetworkTest, TheDefaultVpcHasADefaultSubnetPerZoneAndADefaultGroup) {
  Json vpc = defaultVpc();
  EXPECT_EQ(vpc["CidrBlock"], "172.31.0.0/16");
  EXPECT_EQ(vpc["IsDefault"], true);
  EXPECT_EQ(vpc["State"], "available");
  EXPECT_EQ(vpc["OwnerId"], "000000000000");
  EXPECT_EQ(vpc["CidrBlockAssociationSet"][0]["CidrBlockState"]["State"], "associated");
  Json subnets = ok("DescribeSubnets", {{"Filters", filter("vpc-id", {vpc["VpcId"]})}})["Subnets"];
  ASSERT_EQ(subnets.size(), 3u);
  const char* cidrs[] = {"172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(subnets[i]["CidrBlock"], cidrs[i]);
    EXPECT_EQ(subnets[i]["AvailabilityZone"], std::string("us-east-1") + "abc"[i]);
    EXPECT_EQ(subnets[i]["AvailabilityZoneId"], "use1-az" + std::to_string(i + 1));
    EXPECT_EQ(subnets[i]["DefaultForAz"], true);
    EXPECT_EQ(subnets[i]["MapPublicIpOnLaunch"], true);
    EXPECT_EQ(subnets[i]["AvailableIpAddressCount"], 4091);
    EXPECT_EQ(subnets[i]["State"], "available");
    EXPECT_EQ(subnets[i]["VpcId"], vpc["VpcId"]);
    EXPECT_EQ(subnets[i]["SubnetArn"], "arn:aws:ec2:us-east-1:000000000000:subnet/" +
                                           subnets[i]["SubnetId"].get<std::string>());
  }
  EXPECT_EQ(ok("DescribeSubnets", {{"Filters", filter("availability-zone",
                                                      {"us-east-1b"})}})["Subnets"][0]["CidrBlock"],
            "172.31.16.0/20");
  EXPECT_EQ(
      ok("DescribeSubnets", {{"Filters", filter("default-for-az", {"false"})}})["Subnets"].size(),
      0u);
  Json groups = ok("DescribeSecurityGroups", {{"GroupNames", {"default"}}})["SecurityGroups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["VpcId"], vpc["VpcId"]);
  // Inbound from itself, outbound to anywhere.
  EXPECT_EQ(groups[0]["IpPermissions"][0]["IpProtocol"], "-1");
  EXPECT_EQ(groups[0]["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"], groups[0]["GroupId"]);
  EXPECT_EQ(groups[0]["IpPermissionsEgress"][0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
  EXPECT_EQ(errorCode("DeleteSecurityGroup", {{"GroupId", groups[0]["GroupId"]}}), "CannotDelete");
  EXPECT_EQ(errorCode("DeleteSecurityGroup", {{"GroupName", "default"}}), "CannotDelete");
}

TEST_F(NetworkTest, VpcsAreCreatedValidatedDescribedAndDeleted) {
  EXPECT_EQ(errorCode("CreateVpc", Json::object()), "MissingParameter");
  EXPECT_EQ(errorCode("CreateVpc", {{"CidrBlock", "10.0.0.0/8"}}), "InvalidVpc.Range");
  EXPECT_EQ(errorCode("CreateVpc", {{"CidrBlock", "10.0.0.0/29"}}), "InvalidVpc.Range");
  EXPECT_EQ(errorCode("CreateVpc", {{"CidrBlock", "10.0.0.1/16"}}), "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateVpc", {{"CidrBlock", "10.0.300.0/24"}}), "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateVpc", {{"CidrBlock", "banana"}}), "InvalidParameterValue");
  EXPECT_EQ(ok("DescribeVpcs", Json::object())["Vpcs"].size(), 1u); // nothing was made

  Json created =
      ok("CreateVpc",
         {{"CidrBlock", "10.0.0.0/16"},
          {"TagSpecifications",
           {{{"ResourceType", "vpc"}, {"Tags", {{{"Key", "Name"}, {"Value", "shop"}}}}}}}})["Vpc"];
  std::string id = created["VpcId"];
  EXPECT_EQ(id.rfind("vpc-", 0), 0u);
  EXPECT_EQ(created["IsDefault"], false);
  EXPECT_EQ(created["Tags"][0]["Value"], "shop");
  EXPECT_EQ(ok("DescribeVpcs", Json::object())["Vpcs"].size(), 2u);
  EXPECT_EQ(ok("DescribeVpcs", {{"Filters", filter("tag:Name", {"shop"})}})["Vpcs"][0]["VpcId"],
            id);
  EXPECT_EQ(ok("DescribeVpcs", {{"Filters", filter("cidr", {"10.0.0.0/16"})}})["Vpcs"].size(), 1u);
  EXPECT_EQ(ok("DescribeVpcs", {{"VpcIds", {id}}})["Vpcs"].size(), 1u);
  EXPECT_EQ(errorCode("DescribeVpcs", {{"VpcIds", {"vpc-00000000000000000"}}}),
            "InvalidVpcID.NotFound");
  // Its own default group came with it.
  Json groups =
      ok("DescribeSecurityGroups", {{"Filters", filter("vpc-id", {id})}})["SecurityGroups"];
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupName"], "default");

  // Subnets and other groups hold the VPC.
  std::string subnet =
      ok("CreateSubnet", {{"VpcId", id}, {"CidrBlock", "10.0.1.0/24"}})["Subnet"]["SubnetId"];
  EXPECT_EQ(errorCode("DeleteVpc", {{"VpcId", id}}), "DependencyViolation");
  ok("DeleteSubnet", {{"SubnetId", subnet}});
  std::string web = ok("CreateSecurityGroup",
                       {{"GroupName", "web"}, {"Description", "web"}, {"VpcId", id}})["GroupId"];
  EXPECT_EQ(errorCode("DeleteVpc", {{"VpcId", id}}), "DependencyViolation");
  ok("DeleteSecurityGroup", {{"GroupId", web}});
  ok("DeleteVpc", {{"VpcId", id}});
  EXPECT_EQ(errorCode("DeleteVpc", {{"VpcId", id}}), "InvalidVpcID.NotFound");
  EXPECT_EQ(
      ok("DescribeSecurityGroups", {{"Filters", filter("vpc-id", {id})}})["SecurityGroups"].size(),
      0u);
}

TEST_F(NetworkTest, SubnetsStayInsideTheirVpcAndDoNotOverlap) {
  std::string vpc = newVpc("10.1.0.0/16");
  EXPECT_EQ(errorCode("CreateSubnet", {{"VpcId", vpc}}), "MissingParameter");
  EXPECT_EQ(
      errorCode("CreateSubnet", {{"VpcId", "vpc-00000000000000000"}, {"CidrBlock", "10.1.0.0/24"}}),
      "InvalidVpcID.NotFound");
  EXPECT_EQ(errorCode("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.2.0.0/24"}}),
            "InvalidSubnet.Range");
  EXPECT_EQ(errorCode("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.1.0.0/29"}}),
            "InvalidSubnet.Range");
  EXPECT_EQ(
      errorCode("CreateSubnet",
                {{"VpcId", vpc}, {"CidrBlock", "10.1.0.0/24"}, {"AvailabilityZone", "us-west-2a"}}),
      "InvalidParameterValue");
  Json a = ok("CreateSubnet", {{"VpcId", vpc},
                               {"CidrBlock", "10.1.0.0/24"},
                               {"AvailabilityZone", "us-east-1b"},
                               {"TagSpecifications",
                                {{{"ResourceType", "subnet"},
                                  {"Tags", {{{"Key", "tier"}, {"Value", "web"}}}}}}}})["Subnet"];
  EXPECT_EQ(a["AvailabilityZone"], "us-east-1b");
  EXPECT_EQ(a["DefaultForAz"], false);
  EXPECT_EQ(a["MapPublicIpOnLaunch"], false);
  EXPECT_EQ(a["AvailableIpAddressCount"], 251);
  EXPECT_EQ(errorCode("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.1.0.128/25"}}),
            "InvalidSubnet.Conflict");
  EXPECT_EQ(errorCode("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.1.0.0/16"}}),
            "InvalidSubnet.Conflict");
  // Without a zone, one where the VPC has fewest subnets.
  Json b = ok("CreateSubnet", {{"VpcId", vpc}, {"CidrBlock", "10.1.1.0/24"}})["Subnet"];
  EXPECT_EQ(b["AvailabilityZone"], "us-east-1a");
  Json c = ok(
      "CreateSubnet",
      {{"VpcId", vpc}, {"CidrBlock", "10.1.2.0/24"}, {"AvailabilityZoneId", "use1-az3"}})["Subnet"];
  EXPECT_EQ(c["AvailabilityZone"], "us-east-1c");
  EXPECT_EQ(
      ok("DescribeSubnets", {{"Filters", filter("tag:tier", {"web"})}})["Subnets"][0]["SubnetId"],
      a["SubnetId"]);
  EXPECT_EQ(ok("DescribeSubnets", {{"SubnetIds", {b["SubnetId"]}}})["Subnets"].size(), 1u);
  EXPECT_EQ(errorCode("DescribeSubnets", {{"SubnetIds", {"subnet-00000000000000000"}}}),
            "InvalidSubnetID.NotFound");
  EXPECT_EQ(errorCode("DeleteSubnet", {{"SubnetId", "subnet-00000000000000000"}}),
            "InvalidSubnetID.NotFound");
  EXPECT_EQ(errorCode("DescribeSubnets", {{"Filters", filter("size", {"1"})}}),
            "InvalidParameterValue");
}

TEST_F(NetworkTest, SecurityGroupsAreCreatedInTheDefaultVpcWithTheDefaultEgressRule) {
  EXPECT_EQ(errorCode("CreateSecurityGroup", {{"GroupName", "web"}}), "MissingParameter");
  EXPECT_EQ(errorCode("CreateSecurityGroup", {{"Description", "web"}}), "MissingParameter");
  EXPECT_EQ(
      errorCode("CreateSecurityGroup",
                {{"GroupName", "web"}, {"Description", "web"}, {"VpcId", "vpc-00000000000000000"}}),
      "InvalidVpcID.NotFound");
  Json r = ok(
      "CreateSecurityGroup",
      {{"GroupName", "web"},
       {"Description", "web servers"},
       {"TagSpecifications",
        {{{"ResourceType", "security-group"}, {"Tags", {{{"Key", "team"}, {"Value", "shop"}}}}}}}});
  std::string id = r["GroupId"];
  EXPECT_EQ(id.rfind("sg-", 0), 0u);
  EXPECT_EQ(r["Tags"][0]["Key"], "team");
  EXPECT_EQ(errorCode("CreateSecurityGroup", {{"GroupName", "web"}, {"Description", "again"}}),
            "InvalidGroup.Duplicate");
  // The same name in another VPC is another group.
  std::string vpc = newVpc();
  ok("CreateSecurityGroup", {{"GroupName", "web"}, {"Description", "web"}, {"VpcId", vpc}});

  Json g = group(id);
  EXPECT_EQ(g["GroupName"], "web");
  EXPECT_EQ(g["Description"], "web servers");
  EXPECT_EQ(g["VpcId"], defaultVpc()["VpcId"]);
  EXPECT_EQ(g["IpPermissions"].size(), 0u);
  ASSERT_EQ(g["IpPermissionsEgress"].size(), 1u);
  EXPECT_EQ(g["IpPermissionsEgress"][0]["IpProtocol"], "-1");
  EXPECT_EQ(g["IpPermissionsEgress"][0]["IpRanges"][0]["CidrIp"], "0.0.0.0/0");
  EXPECT_EQ(ok("DescribeSecurityGroups", {{"GroupNames", {"web"}}})["SecurityGroups"][0]["GroupId"],
            id);
  EXPECT_EQ(
      ok("DescribeSecurityGroups", {{"Filters", filter("group-name", {"web"})}})["SecurityGroups"]
          .size(),
      2u);
  EXPECT_EQ(
      ok("DescribeSecurityGroups", {{"Filters", filter("tag:team", {"shop"})}})["SecurityGroups"]
          .size(),
      1u);
  EXPECT_EQ(errorCode("DescribeSecurityGroups", {{"GroupIds", {"sg-00000000000000000"}}}),
            "InvalidGroup.NotFound");
  EXPECT_EQ(errorCode("DescribeSecurityGroups", {{"GroupNames", {"nope"}}}),
            "InvalidGroup.NotFound");

  ok("DeleteSecurityGroup", {{"GroupName", "web"}});
  EXPECT_EQ(errorCode("DeleteSecurityGroup", {{"GroupId", id}}), "InvalidGroup.NotFound");
  EXPECT_EQ(errorCode("DeleteSecurityGroup", Json::object()), "MissingParameter");
}

TEST_F(NetworkTest, RulesAreAuthorizedOnceAndRevokedExactly) {
  std::string web =
      ok("CreateSecurityGroup", {{"GroupName", "web"}, {"Description", "web"}})["GroupId"];
  std::string lb =
      ok("CreateSecurityGroup", {{"GroupName", "lb"}, {"Description", "lb"}})["GroupId"];
  Json perms = Json::array({{{"IpProtocol", "tcp"},
                             {"FromPort", 80},
                             {"ToPort", 80},
                             {"IpRanges", {{{"CidrIp", "10.0.0.0/8"}, {"Description", "office"}}}},
                             {"Ipv6Ranges", {{{"CidrIpv6", "::/0"}}}},
                             {"UserIdGroupPairs", {{{"GroupId", lb}}}}}});
  Json r = ok("AuthorizeSecurityGroupIngress", {{"GroupId", web}, {"IpPermissions", perms}});
  EXPECT_EQ(r["Return"], true);
  ASSERT_EQ(r["SecurityGroupRules"].size(), 3u);
  EXPECT_EQ(r["SecurityGroupRules"][0]["CidrIpv4"], "10.0.0.0/8");
  EXPECT_EQ(r["SecurityGroupRules"][0]["Description"], "office");
  EXPECT_EQ(r["SecurityGroupRules"][0]["IsEgress"], false);
  EXPECT_EQ(r["SecurityGroupRules"][0]["FromPort"], 80);
  EXPECT_EQ(r["SecurityGroupRules"][0]["GroupId"], web);
  EXPECT_EQ(r["SecurityGroupRules"][1]["CidrIpv6"], "::/0");
  EXPECT_EQ(r["SecurityGroupRules"][2]["ReferencedGroupInfo"]["GroupId"], lb);
  EXPECT_EQ(
      errorCode("AuthorizeSecurityGroupIngress", {{"GroupId", web}, {"IpPermissions", perms}}),
      "InvalidPermission.Duplicate");
  // The shorthand, by group name.
  ok("AuthorizeSecurityGroupIngress", {{"GroupName", "web"},
                                       {"IpProtocol", "tcp"},
                                       {"FromPort", 22},
                                       {"ToPort", 22},
                                       {"CidrIp", "203.0.113.0/24"}});
  Json g = group(web);
  ASSERT_EQ(g["IpPermissions"].size(), 2u);
  EXPECT_EQ(g["IpPermissions"][0]["FromPort"], 80);
  EXPECT_EQ(g["IpPermissions"][0]["IpRanges"][0]["CidrIp"], "10.0.0.0/8");
  EXPECT_EQ(g["IpPermissions"][0]["Ipv6Ranges"][0]["CidrIpv6"], "::/0");
  EXPECT_EQ(g["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"], lb);
  EXPECT_EQ(g["IpPermissions"][1]["FromPort"], 22);

  // Bad input changes nothing.
  auto bad = [&](const Json& p) { return errorCode("AuthorizeSecurityGroupIngress", p); };
  EXPECT_EQ(bad({{"GroupId", web},
                 {"IpPermissions",
                  {{{"IpProtocol", "tcp"},
                    {"FromPort", 90},
                    {"ToPort", 80},
                    {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(bad({{"GroupId", web},
                 {"IpPermissions",
                  {{{"IpProtocol", "tcp"},
                    {"FromPort", 443},
                    {"ToPort", 443},
                    {"IpRanges", {{{"CidrIp", "0.0.0.0/33"}}}}}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(bad({{"GroupId", web},
                 {"IpPermissions",
                  {{{"IpProtocol", "bogus"}, {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(bad({{"GroupId", web},
                 {"IpPermissions",
                  {{{"IpProtocol", "tcp"},
                    {"FromPort", 443},
                    {"ToPort", 443},
                    {"UserIdGroupPairs", {{{"GroupId", "sg-00000000000000000"}}}}}}}}),
            "InvalidGroup.NotFound");
  EXPECT_EQ(
      bad({{"GroupId", "sg-00000000000000000"}, {"CidrIp", "0.0.0.0/0"}, {"IpProtocol", "-1"}}),
      "InvalidGroup.NotFound");
  EXPECT_EQ(group(web)["IpPermissions"], g["IpPermissions"]);

  // A group a rule refers to cannot go.
  EXPECT_EQ(errorCode("DeleteSecurityGroup", {{"GroupId", lb}}), "DependencyViolation");

  // Revoke removes exactly what it names.
  EXPECT_EQ(errorCode("RevokeSecurityGroupIngress", {{"GroupId", web},
                                                     {"IpProtocol", "tcp"},
                                                     {"FromPort", 23},
                                                     {"ToPort", 23},
                                                     {"CidrIp", "203.0.113.0/24"}}),
            "InvalidPermission.NotFound");
  ok("RevokeSecurityGroupIngress", {{"GroupId", web}, {"IpPermissions", perms}});
  g = group(web);
  ASSERT_EQ(g["IpPermissions"].size(), 1u);
  EXPECT_EQ(g["IpPermissions"][0]["FromPort"], 22);
  ok("DeleteSecurityGroup", {{"GroupId", lb}});

  // Egress: by id only; the default rule can be revoked and given back.
  Json allOut = Json::array({{{"IpProtocol", "-1"}, {"IpRanges", {{{"CidrIp", "0.0.0.0/0"}}}}}});
  EXPECT_EQ(
      errorCode("AuthorizeSecurityGroupEgress", {{"GroupId", web}, {"IpPermissions", allOut}}),
      "InvalidPermission.Duplicate");
  EXPECT_EQ(
      errorCode("AuthorizeSecurityGroupEgress", {{"GroupName", "web"}, {"IpPermissions", allOut}}),
      "UnknownParameter");
  ok("RevokeSecurityGroupEgress", {{"GroupId", web}, {"IpPermissions", allOut}});
  EXPECT_EQ(group(web)["IpPermissionsEgress"].size(), 0u);
  Json out =
      ok("AuthorizeSecurityGroupEgress", {{"GroupId", web},
                                          {"IpPermissions",
                                           {{{"IpProtocol", "udp"},
                                             {"FromPort", 53},
                                             {"ToPort", 53},
                                             {"IpRanges", {{{"CidrIp", "10.0.0.2/32"}}}}}}}});
  EXPECT_EQ(out["SecurityGroupRules"][0]["IsEgress"], true);

  // DescribeSecurityGroupRules, and revoking by rule id.
  Json rules = ok("DescribeSecurityGroupRules",
                  {{"Filters", filter("group-id", {web})}})["SecurityGroupRules"];
  ASSERT_EQ(rules.size(), 2u);
  std::string egressRule = out["SecurityGroupRules"][0]["SecurityGroupRuleId"];
  EXPECT_EQ(ok("DescribeSecurityGroupRules",
               {{"SecurityGroupRuleIds", {egressRule}}})["SecurityGroupRules"][0]["ToPort"],
            53);
  EXPECT_EQ(errorCode("RevokeSecurityGroupEgress",
                      {{"GroupId", web}, {"SecurityGroupRuleIds", {"sgr-00000000000000000"}}}),
            "InvalidSecurityGroupRuleId.NotFound");
  ok("RevokeSecurityGroupEgress", {{"GroupId", web}, {"SecurityGroupRuleIds", {egressRule}}});
  EXPECT_EQ(group(web)["IpPermissionsEgress"].size(), 0u);
}

TEST_F(NetworkTest, KeyPairsAreRealKeysWithAwsFingerprints) {
  Json rsa = ok("CreateKeyPair", {{"KeyName", "deploy"}});
  EXPECT_EQ(rsa["KeyName"], "deploy");
  EXPECT_EQ(rsa["KeyPairId"].get<std::string>().rfind("key-", 0), 0u);
  std::string pem = rsa["KeyMaterial"];
  EXPECT_EQ(pem.rfind("-----BEGIN RSA PRIVATE KEY-----\n", 0), 0u) << pem;
  // SHA-1: 20 bytes as colon-separated hex.
  std::string fp = rsa["KeyFingerprint"];
  EXPECT_EQ(fp.size(), 59u) << fp;
  EXPECT_EQ(fp[2], ':');
  EXPECT_EQ(errorCode("CreateKeyPair", {{"KeyName", "deploy"}}), "InvalidKeyPair.Duplicate");
  EXPECT_EQ(errorCode("CreateKeyPair", Json::object()), "MissingParameter");
  EXPECT_EQ(errorCode("CreateKeyPair", {{"KeyName", "x"}, {"KeyType", "dsa"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateKeyPair", {{"KeyName", "x"}, {"KeyFormat", "ppk"}}),
            "InvalidParameterValue");

  Json ed =
      ok("CreateKeyPair",
         {{"KeyName", "ed"},
          {"KeyType", "ed25519"},
          {"TagSpecifications",
           {{{"ResourceType", "key-pair"}, {"Tags", {{{"Key", "env"}, {"Value", "prod"}}}}}}}});
  EXPECT_EQ(ed["KeyMaterial"].get<std::string>().rfind("-----BEGIN OPENSSH PRIVATE KEY-----\n", 0),
            0u);
  EXPECT_EQ(ed["KeyFingerprint"].get<std::string>().size(), 44u); // base64 of SHA-256
  EXPECT_EQ(ed["Tags"][0]["Value"], "prod");

  // The public key of a made ED25519 pair, imported, has the same fingerprint.
  Json listed = ok("DescribeKeyPairs", {{"KeyNames", {"ed"}}, {"IncludePublicKey", true}});
  ASSERT_EQ(listed["KeyPairs"].size(), 1u);
  EXPECT_EQ(listed["KeyPairs"][0]["KeyType"], "ed25519");
  EXPECT_EQ(listed["KeyPairs"][0]["KeyFingerprint"], ed["KeyFingerprint"]);
  EXPECT_EQ(listed["KeyPairs"][0]["CreateTime"], "2023-11-14T22:13:20.000Z");
  std::string pub = listed["KeyPairs"][0]["PublicKey"];
  EXPECT_EQ(pub.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", 0), 0u) << pub;
  Json again =
      ok("ImportKeyPair", {{"KeyName", "ed-again"}, {"PublicKeyMaterial", base64Encode(pub)}});
  EXPECT_EQ(again["KeyFingerprint"], ed["KeyFingerprint"]);
  EXPECT_EQ(ok("DescribeKeyPairs", Json::object())["KeyPairs"][0].count("PublicKey"), 0u);
  EXPECT_EQ(ok("DescribeKeyPairs", {{"Filters", filter("tag:env", {"prod"})}})["KeyPairs"].size(),
            1u);
  EXPECT_EQ(ok("DescribeKeyPairs", {{"Filters", filter("key-name", {"ed*"})}})["KeyPairs"].size(),
            2u);
  EXPECT_EQ(ok("DescribeKeyPairs", {{"KeyPairIds", {rsa["KeyPairId"]}}})["KeyPairs"][0]["KeyName"],
            "deploy");
  EXPECT_EQ(errorCode("DescribeKeyPairs", {{"KeyNames", {"nope"}}}), "InvalidKeyPair.NotFound");
  EXPECT_EQ(errorCode("DescribeKeyPairs", {{"KeyPairIds", {"key-00000000000000000"}}}),
            "InvalidKeyPair.NotFound");

  ok("DeleteKeyPair", {{"KeyName", "deploy"}});
  ok("DeleteKeyPair", {{"KeyName", "deploy"}}); // gone already: still fine, as on AWS
  ok("DeleteKeyPair", {{"KeyPairId", again["KeyPairId"]}});
  EXPECT_EQ(errorCode("DeleteKeyPair", Json::object()), "MissingParameter");
  EXPECT_EQ(ok("DescribeKeyPairs", Json::object())["KeyPairs"].size(), 1u);
}

TEST_F(NetworkTest, ImportedKeysHaveTheFingerprintsAwsComputes) {
  // Made with ssh-keygen; fingerprints from `ssh-keygen -lf` (ED25519) and AWS's documented
  // `ssh-keygen -ef KEY -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c`.
  const char* ed =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAI2N1mEbWv/2IsP7SwaLQ6yiN1whDYYjvy2IJ+ERk2d "
      "test";
  const char* rsa =
      "ssh-rsa "
      "AAAAB3NzaC1yc2EAAAADAQABAAABAQCyEOu3C879HaSaXkzxfLnCSEhQnQJ9lM55TTOd7kJ7fPc9SDKGkLZe1IsvgR"
      "TzbTyjZLf9RTB/X7QGeJJCcyrjk2PxTuviHjrB1PLY1qbNeeCXBe2bhq0A84yNwyLEx+7e6JWvQFDIxX/A6LW8agVe"
      "NDJkhvyVf+oKb2poQsOeg6xwxQuSPqYCx7+QZV0cE5oFLG98/PpWnkGeQ8mD626sPZXaKplUfI3arvl+7Jz8Jq4rR7"
      "8bzqLVFnRyhfgIpU+ZFdEmmIKEY41sfAPxJlJiXWiMh765sN5gAOUh214V916alA8sQFpmPCrVEnn0SV1aSy8PBGpf"
      "jYkIoBPZDG97 test";
  Json e = ok("ImportKeyPair", {{"KeyName", "ed"}, {"PublicKeyMaterial", base64Encode(ed)}});
  EXPECT_EQ(e["KeyFingerprint"], "RFRnGn/AZwPZJaFUd7f9sQ6B0xzBJeLGF+L1cHERovs=");
  Json r = ok("ImportKeyPair", {{"KeyName", "rsa"}, {"PublicKeyMaterial", base64Encode(rsa)}});
  EXPECT_EQ(r["KeyFingerprint"], "57:de:6d:35:ec:f9:d0:63:bb:7f:88:53:51:f5:2a:5c");
  EXPECT_EQ(ok("DescribeKeyPairs", {{"KeyNames", {"rsa"}}})["KeyPairs"][0]["KeyType"], "rsa");
  EXPECT_EQ(
      errorCode("ImportKeyPair", {{"KeyName", "rsa"}, {"PublicKeyMaterial", base64Encode(rsa)}}),
      "InvalidKeyPair.Duplicate");
  EXPECT_EQ(errorCode("ImportKeyPair",
                      {{"KeyName", "x"}, {"PublicKeyMaterial", base64Encode("ssh-rsa AAAA")}}),
            "InvalidKey.Format");
  EXPECT_EQ(errorCode("ImportKeyPair", {{"KeyName", "x"}, {"PublicKeyMaterial", "!!"}}),
            "InvalidKey.Format");
  // The type word must match the key inside.
  std::string lie = std::string(ed);
  lie.replace(0, 11, "ssh-rsa");
  EXPECT_EQ(
      errorCode("ImportKeyPair", {{"KeyName", "x"}, {"PublicKeyMaterial", base64Encode(lie)}}),
      "InvalidKey.Format");
  EXPECT_EQ(ok("DescribeKeyPairs", Json::object())["KeyPairs"].size(), 2u);
}

TEST_F(NetworkTest, TagsOnEveryResourceKind) {
  std::string image = availableImage();
  std::string lt = ok(
      "CreateLaunchTemplate",
      {{"LaunchTemplateName", "shop"},
       {"LaunchTemplateData",
        {{"ImageId", image}, {"InstanceType", "t3.micro"}}}})["LaunchTemplate"]["LaunchTemplateId"];
  std::string instance =
      ok("RunInstances",
         {{"ImageId", image},
          {"InstanceType", "t3.micro"},
          {"TagSpecifications",
           {{{"ResourceType", "instance"},
             {"Tags", {{{"Key", "Name"}, {"Value", "a"}}}}}}}})["Instances"][0]["InstanceId"];
  std::string vpc = defaultVpc()["VpcId"];
  std::string subnet = ok("DescribeSubnets", Json::object())["Subnets"][0]["SubnetId"];
  std::string sg = ok("DescribeSecurityGroups", Json::object())["SecurityGroups"][0]["GroupId"];
  std::string key = ok("CreateKeyPair", {{"KeyName", "k"}, {"KeyType", "ed25519"}})["KeyPairId"];
  std::vector<std::string> all = {instance, image, lt, vpc, subnet, sg, key};

  ok("CreateTags", {{"Resources", all}, {"Tags", {{{"Key", "env"}, {"Value", "prod"}}}}});
  Json tags = ok("DescribeTags", {{"Filters", filter("key", {"env"})}})["Tags"];
  ASSERT_EQ(tags.size(), 7u);
  std::set<std::string> types;
  for (const Json& t : tags) {
    types.insert(t["ResourceType"]);
    EXPECT_EQ(t["Value"], "prod");
  }
  EXPECT_EQ(types, (std::set<std::string>{"instance", "image", "launch-template", "vpc", "subnet",
                                          "security-group", "key-pair"}));
  // Each resource's own Describe shows them; the instance keeps its earlier tag.
  Json inst =
      ok("DescribeInstances", {{"InstanceIds", {instance}}})["Reservations"][0]["Instances"][0];
  EXPECT_EQ(inst["Tags"].size(), 2u);
  EXPECT_EQ(
      ok("DescribeInstances", {{"Filters", filter("tag:env", {"prod"})}})["Reservations"].size(),
      1u);
  EXPECT_EQ(ok("DescribeImages", {{"ImageIds", {image}}})["Images"][0]["Tags"][0]["Key"], "env");
  EXPECT_EQ(ok("DescribeVpcs", {{"Filters", filter("tag:env", {"prod"})}})["Vpcs"].size(), 1u);
  EXPECT_EQ(ok("DescribeKeyPairs", {{"KeyPairIds", {key}}})["KeyPairs"][0]["Tags"][0]["Value"],
            "prod");
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-type", {"vpc"})}})["Tags"].size(), 1u);
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {instance})}})["Tags"].size(),
            2u);

  // A new value replaces the old one.
  ok("CreateTags", {{"Resources", {vpc}}, {"Tags", {{{"Key", "env"}, {"Value", "test"}}}}});
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {vpc})}})["Tags"][0]["Value"],
            "test");

  // One unknown id and nothing changes.
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {vpc, "vpc-00000000000000000"}},
                                     {"Tags", {{{"Key", "x"}, {"Value", "y"}}}}}),
            "InvalidVpcID.NotFound");
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("key", {"x"})}})["Tags"].size(), 0u);
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {"i-00000000000000000"}},
                                     {"Tags", {{{"Key", "x"}, {"Value", "y"}}}}}),
            "InvalidInstanceID.NotFound");
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {"sg-00000000000000000"}},
                                     {"Tags", {{{"Key", "x"}, {"Value", "y"}}}}}),
            "InvalidGroup.NotFound");
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {"subnet-00000000000000000"}},
                                     {"Tags", {{{"Key", "x"}, {"Value", "y"}}}}}),
            "InvalidSubnetID.NotFound");
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {"vol-00000000000000000"}},
                                     {"Tags", {{{"Key", "x"}, {"Value", "y"}}}}}),
            "InvalidID");
  EXPECT_EQ(errorCode("CreateTags",
                      {{"Resources", {vpc}}, {"Tags", {{{"Key", "aws:x"}, {"Value", "y"}}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateTags", {{"Resources", {vpc}}}), "MissingParameter");

  // DeleteTags: with a value only when it matches; without, whatever the value.
  ok("DeleteTags", {{"Resources", {vpc, subnet}}, {"Tags", {{{"Key", "env"}, {"Value", "prod"}}}}});
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {vpc})}})["Tags"].size(), 1u);
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {subnet})}})["Tags"].size(), 0u);
  ok("DeleteTags", {{"Resources", {vpc}}, {"Tags", {{{"Key", "env"}}}}});
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {vpc})}})["Tags"].size(), 0u);
  ok("DeleteTags", {{"Resources", {instance}}});
  EXPECT_EQ(ok("DescribeTags", {{"Filters", filter("resource-id", {instance})}})["Tags"].size(),
            0u);
  EXPECT_EQ(errorCode("DeleteTags", {{"Resources", {"key-00000000000000000"}}}),
            "InvalidKeyPair.NotFound");
}

} // namespace
} // namespace tide::api

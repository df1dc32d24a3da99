// The public, read-only Systems Manager parameters tide provides (SSM GetParameter(s),
// GetParametersByPath), and the built-in base image they name.
//
// AWS publishes the ids of its current images under /aws/service/... so that scripts, launch
// templates and CloudFormation templates need not hard-code an AMI id ("resolve:ssm:NAME",
// AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>). tide answers the Amazon Linux names with
// its own base image: a small static web server that needs nothing installed (`tide
// serve-static`, registered by the server at start).
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <span>
#include <string>
#include <string_view>

namespace tide::model {

// The base image. Its id is fixed (the first 16 hex digits of the SHA-256 of "tide built-in
// base image al2023-ami-tide-base-x86_64" after a 0), so it is the same across restarts and
// data directories, as an AMI id is the same for everyone in a region.
inline constexpr std::string_view kBaseImageId = "ami-0ee8d2b74358b2001";
inline constexpr std::string_view kBaseImageName = "al2023-ami-tide-base-x86_64";
inline constexpr std::string_view kBaseImageDescription =
    "tide base image: a static web server answering / with a page naming the instance and "
    "/health with 200, on the instance's address and port 80 (tide serve-static)";
// Amazon's account for its public images, as DescribeImages shows them.
inline constexpr std::string_view kAmazonOwnerId = "137112412989";
inline constexpr std::string_view kAmazonOwnerAlias = "amazon";

// Whether the image is one tide provides (owned by "amazon": listed by every account, not
// deregistrable).
bool isBuiltinImage(std::string_view imageId);

struct PublicParameter {
  std::string_view name;     // "/aws/service/ami-amazon-linux-latest/..."
  std::string_view value;    // an image id
  std::string_view dataType; // "aws:ec2:image" or "text"
};

// Every public parameter, sorted by name. Each has version 1 and kPublicParametersModified as
// its last modification.
std::span<const PublicParameter> publicParameters();
inline constexpr TimeMs kPublicParametersModified = 1735689600000; // 2025-01-01T00:00:00Z
inline constexpr int64_t kPublicParameterVersion = 1;

// The parameter called `name` (exactly), or nullptr.
const PublicParameter* findPublicParameter(std::string_view name);

// A parameter reference as EC2 and SSM accept it: NAME, NAME:VERSION, or an ARN
// (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) of either.
struct ParameterSelector {
  std::string name;     // always starting with '/' for the names tide provides
  std::string selector; // "" or what followed the last ':' of the name ("1", a label)
};
ParameterSelector parseParameterSelector(std::string_view reference);

// The prefix of an image id that names a parameter instead of an image.
inline constexpr std::string_view kResolveSsmPrefix = "resolve:ssm:";
bool isSsmImageReference(std::string_view imageId);

// "resolve:ssm:NAME[:VERSION]" → the image id the parameter holds; any other string is
// returned unchanged. Errors (InvalidParameterValue, as EC2 answers) when the parameter does
// not exist, has no such version or does not hold an image id.
Result<std::string> resolveImageId(std::string_view imageId);

} // namespace tide::model

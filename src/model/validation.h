// Validation rules of the model, with EC2's error codes. Each returns OK or a Status whose
// message names the field and the value, so API callers and stack files get precise errors.
#pragma once

#include "common/status.h"
#include "model/elb.h"
#include "model/types.h"

#include <string_view>

namespace tide::model {

// 3..128 of letters, digits, ( ) [ ] space . / - ' @ _  → "InvalidAMIName.Malformed".
Status validateImageName(std::string_view name);
// 3..128 of letters, digits, ( ) . - / _  → "InvalidLaunchTemplateName.MalformedException".
Status validateLaunchTemplateName(std::string_view name);
// 1..65535 → "InvalidParameterValue".
Status validatePort(int port, std::string_view field);
// A known instance type → "InvalidParameterValue".
Status validateInstanceType(std::string_view type);
// Up to 50 tags, keys 1..128 not starting with "aws:", values up to 256, keys unique.
Status validateTags(const std::vector<Tag>& tags);
// The instance's environment goes to execve(), whose limits are the kernel's: one string
// NAME=VALUE with its NUL at most MAX_ARG_STRLEN (32 pages: 131072 bytes with 4 KiB pages, the
// smallest), and all of argv and environ together at most ARG_MAX (a quarter of the stack
// limit: 2 MiB with the usual 8 MiB). tide checks below both at the API, so that an instance
// never dies with "Argument list too long": each NAME=VALUE at most kMaxEnvironmentEntryBytes,
// and the template's variables together (each NAME=VALUE and its NUL) at most
// kMaxEnvironmentBytes, which leaves room for what tide adds (HOST, PORT, TIDE_*, AWS_*) and
// the command.
inline constexpr size_t kMaxEnvironmentEntryBytes = 131071;
inline constexpr size_t kMaxEnvironmentBytes = 262144;
// Names [A-Za-z_][A-Za-z0-9_]*, unique, not HOST, PORT or TIDE_*; values without NUL; sizes
// within kMaxEnvironmentEntryBytes and kMaxEnvironmentBytes.
Status validateEnvironment(const std::vector<EnvironmentVariable>& env);
// Padded base64 of at most 16 KiB decoded ("InvalidUserData.Malformed", "InvalidParameterValue").
Status validateUserData(std::string_view base64);
// "sg-" + 8 or 17 hex digits → "InvalidGroupId.Malformed".
Status validateSecurityGroupIds(const std::vector<std::string>& ids);
// Volume sizes 1..16384 GiB, types gp2 gp3 io1 io2 st1 sc1 standard, device names unique.
Status validateBlockDeviceMappings(const std::vector<BlockDeviceMapping>& mappings);
// All of the above for the fields that are set; ImageId must look like an AMI id when set.
Status validateLaunchTemplateData(const LaunchTemplateData& data);

// Load balancer and target group names: 1..32 of letters, digits and "-", not starting or
// ending with "-" → "ValidationError" naming `what`.
Status validateElbName(std::string_view name, std::string_view what);
// "200", "200,302", "200-299" with codes 200..499 → "ValidationError".
Status validateMatcher(std::string_view matcher);
// gRPC codes of a GRPC target group's matcher: "12", "0,1", "0-5" with codes 0..99 →
// "ValidationError" (AWS's words: "Health check matcher GRPC code '200' must be within '0-99'
// inclusive").
Status validateGrpcMatcher(std::string_view matcher);
// Health check settings and attributes of a target group, each error naming the field; the
// ProtocolVersion (HTTP1, HTTP2, GRPC) and its matcher (HTTP codes, or gRPC codes for GRPC).
Status validateTargetGroup(const TargetGroup& tg);
// The attributes alone (slow start, stickiness, anomaly mitigation): ranges →
// "ValidationError"; combinations AWS refuses (slow start with least_outstanding_requests or
// weighted_random, anomaly mitigation without weighted_random) → "InvalidConfigurationRequest".
Status validateTargetGroupAttributes(const TargetGroup& tg);
// An application cookie name: an RFC 6265 token of 1..256 characters not starting with the
// reserved AWSALB, AWSALBAPP or AWSALBTG → "ValidationError".
Status validateAppCookieName(std::string_view name);
// Whether an HTTP status code matches a matcher (already validated).
bool matcherMatches(std::string_view matcher, int status);
// Whether a gRPC status code (grpc-status) matches a gRPC matcher (already validated).
bool grpcMatcherMatches(std::string_view matcher, int code);

// A listener or rule action as ELBv2 allows it: forward (TargetGroupArn, or 1..5 target groups
// of weight 0..999, not all 0, each named once), redirect (Protocol HTTP, HTTPS or #{protocol};
// Port 1..65535 or #{port}; Host 1..128; Path 1..128 starting with "/"; Query 0..128 not
// starting with "?"; StatusCode HTTP_301 or HTTP_302; not a redirect to the same URL) or
// fixed-response → "ValidationError" naming the field.
Status validateListenerAction(const ListenerAction& action);
// A rule's conditions as ELBv2 allows them: known fields; at most one host-header,
// http-request-method, path-pattern and source-ip; 1..3 values each, at most 5 values and 5
// wildcards per rule; lengths and characters per field (host names with a "."; paths of
// A-Za-z0-9 _-.$/~"'@:+&; header names of token characters, not Host; methods of A-Z-_;
// IPv4 CIDRs) → "ValidationError" naming the condition.
Status validateRuleConditions(const std::vector<RuleCondition>& conditions);

// Resolves "$Default", "$Latest" or a version number against a template.
// Errors: "InvalidLaunchTemplateId.VersionNotFound" for a number that does not exist,
// "InvalidParameterValue" for anything else.
Result<int64_t> resolveLaunchTemplateVersion(const LaunchTemplate& lt, std::string_view spec);

} // namespace tide::model

// STS: GetCallerIdentity, which every SDK tool calls first to learn who it is, and
// GetSessionToken, which gives temporary credentials. tide has one identity per server: the
// account's root (the account is --account-id, 000000000000 unless set), whatever key signed the
// request.
#include "api/auth.h"
#include "api/handlers.h"
#include "api/params.h"

namespace tide::api {

Result<Json> getCallerIdentity(ActionContext& ctx, const Json&) {
  return Json{{"UserId", ctx.accountId},
              {"Account", ctx.accountId},
              {"Arn", "arn:aws:iam::" + ctx.accountId + ":root"}};
}

// As AWS gives them to an account's root: 900 s at least; 3,600 s at most (a longer duration is
// cut to an hour, not refused), and an hour by default. Sessions cannot make sessions.
Result<Json> getSessionToken(ActionContext& ctx, const Json& p) {
  constexpr long long kRootMaxSeconds = 3600;
  long long duration = kRootMaxSeconds;
  if (p.contains("DurationSeconds")) {
    if (!p["DurationSeconds"].is_number_integer()) {
      return validationError("DurationSeconds must be an integer");
    }
    duration = p["DurationSeconds"].get<long long>();
    if (duration < 900 || duration > 129600) {
      return validationError(
          "1 validation error detected: Value '" + std::to_string(duration) +
          "' at 'durationSeconds' failed to satisfy constraint: Member must "
          "have value " +
          (duration < 900 ? "greater than or equal to 900" : "less than or equal to 129600"));
    }
    duration = std::min(duration, kRootMaxSeconds);
  }
  if (p.contains("SerialNumber") || p.contains("TokenCode")) {
    return Status("AccessDenied",
                  "MultiFactorAuthentication failed: tide has no MFA devices, so SerialNumber "
                  "and TokenCode cannot be checked; call GetSessionToken without them");
  }
  if (ctx.sessionCaller) {
    return Status("AccessDenied", "Cannot call GetSessionToken with session credentials");
  }
  if (ctx.auth == nullptr) {
    return Status("InvalidAction", "this server has no key to make session credentials with");
  }
  SessionCredentials c = issueSessionCredentials(ctx.auth->credentials, ctx.clock.now(), duration);
  return Json{{"Credentials",
               {{"AccessKeyId", c.accessKeyId},
                {"SecretAccessKey", c.secretAccessKey},
                {"SessionToken", c.sessionToken},
                {"Expiration", formatIso8601(c.expiration)}}}};
}

} // namespace tide::api

// STS: GetCallerIdentity, which every SDK tool calls first to learn who it is. tide has one
// identity per server: the account's root (the account is --account-id, 000000000000 unless
// set), whatever key signed the request.
#include "api/handlers.h"

namespace tide::api {

Result<Json> getCallerIdentity(ActionContext& ctx, const Json&) {
  return Json{{"UserId", ctx.accountId},
              {"Account", ctx.accountId},
              {"Arn", "arn:aws:iam::" + ctx.accountId + ":root"}};
}

} // namespace tide::api

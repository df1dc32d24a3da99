#include "api/dispatch.h"

#include "common/log.h"

namespace tide::api {

int httpStatusFor(const std::string& code) {
  struct Row {
    std::string_view code;
    int status;
  };
  static const Row kRows[] = {
      {"InternalError", 500},
      {"ServiceUnavailable", 503},
      {"UnknownOperationException", 400},
  };
  for (const Row& r : kRows) {
    if (r.code == code) {
      return r.status;
    }
  }
  return 400;
}

HttpResponse errorResponse(const Status& status) {
  HttpResponse r;
  r.status = httpStatusFor(status.code());
  r.body = Json{{"__type", status.code()}, {"message", status.message()}}.dump();
  return r;
}

HttpResponse handleApiRequest(ActionContext& ctx, const HttpRequest& request) {
  if (request.method == "GET" && request.target == "/") {
    HttpResponse r;
    r.body = Json{{"Service", "tide"}, {"Version", "0.1.0"}}.dump();
    return r;
  }
  if (request.method != "POST") {
    HttpResponse r = errorResponse(Status(
        "UnsupportedProtocol", "Send actions as POST / with an X-Amz-Target header naming the "
                               "action and the parameters as a JSON object"));
    r.status = 405;
    return r;
  }
  const std::string* target = request.header("x-amz-target");
  if (target == nullptr || target->empty()) {
    return errorResponse(Status("MissingAction", "The X-Amz-Target header must name the action"));
  }
  std::string_view name = *target;
  if (size_t dot = name.rfind('.'); dot != std::string_view::npos) {
    name = name.substr(dot + 1);
  }
  const ActionEntry* action = ctx.actions != nullptr ? ctx.actions->find(name) : findAction(name);
  if (action == nullptr) {
    return errorResponse(Status("InvalidAction", "The action '" + std::string(name) +
                                                     "' is not valid for this web service"));
  }
  Json params = Json::object();
  if (!request.body.empty()) {
    params = Json::parse(request.body, nullptr, false);
    if (params.is_discarded()) {
      return errorResponse(Status("SerializationException", "The request body is not valid JSON"));
    }
    if (!params.is_object()) {
      return errorResponse(
          Status("SerializationException", "The request body must be a JSON object"));
    }
  }
  if (auto dry = params.find("DryRun"); dry != params.end() && dry->is_boolean() && *dry) {
    // EC2 checks permissions and answers DryRunOperation without acting; tide has no
    // permissions to check, and a dry run that acted would be worse than none.
    return errorResponse(
        Status("UnsupportedOperation",
               "DryRun is not supported by tide yet: send the request without it"));
  }
  Result<Json> result = action->handler(ctx, params);
  if (!result) {
    if (httpStatusFor(result.status().code()) >= 500) {
      logError(std::string(action->name) + " failed: " + result.status().toString());
    }
    return errorResponse(result.status());
  }
  HttpResponse r;
  r.body = result->dump();
  return r;
}

} // namespace tide::api

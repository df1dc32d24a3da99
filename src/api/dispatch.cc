#include "api/dispatch.h"

#include "api/auth.h"
#include "api/json_text.h"

#include "api/request_semantics.h"
#include "api/wire/cbor_wire.h"
#include "api/wire/json.h"
#include "api/wire/model.h"
#include "api/wire/query.h"
#include "api/wire/xml.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/process_health.h"
#include "common/text.h"
#include "common/utf8.h"

#include <functional>

namespace tide::api {

namespace {

using wire::QueryDialect;

enum class Protocol { TideJson, AwsJson, Query, Ec2Query, Cbor };

HttpResponse routeApiRequest(ActionContext& ctx, const HttpRequest& request);

// A JSON body that parseJsonText refused (malformed, not UTF-8, nested deeper than
// kMaxApiBodyDepth, a repeated key): SerializationException, as AWS's JSON protocols answer.
Status bodyError(const Status& parse) {
  return Status("SerializationException", "The request body is not valid JSON: " + parse.message());
}

// What a request was, once routed: its protocol, service and operation (the last two null for
// tide's own JSON).
struct Call {
  Protocol protocol = Protocol::TideJson;
  const wire::Service* service = nullptr;
  const wire::Operation* op = nullptr;
  std::string requestId = newUuid();
};

int statusFor(const Call& call, const std::string& code) {
  if (call.service != nullptr) {
    if (const wire::ErrorCode* e = wire::findError(call.service->name, code)) {
      return e->httpStatus;
    }
  }
  return httpStatusFor(code);
}

HttpResponse awsError(const Call& call, const Status& error) {
  // Messages quote what the request sent (a target, a path, a header): they stay UTF-8 so that
  // every encoding below can carry them.
  Status status(error.code(), escapeInvalidUtf8(error.message()));
  HttpResponse r;
  const std::string& code = status.code();
  r.status = statusFor(call, code);
  bool sender = r.status < 500;
  if (call.service != nullptr) {
    if (const wire::ErrorCode* e = wire::findError(call.service->name, code)) {
      sender = e->senderFault;
    }
  }
  r.headers.emplace_back("x-amzn-RequestId", call.requestId);
  switch (call.protocol) {
  case Protocol::Query:
  case Protocol::Ec2Query:
    r.contentType = "text/xml";
    r.body = wire::encodeXmlError(call.service, code, status.message(), sender, call.requestId,
                                  call.protocol == Protocol::Ec2Query ? QueryDialect::Ec2
                                                                      : QueryDialect::Query);
    break;
  case Protocol::AwsJson:
    r.contentType = "application/x-amz-json-" +
                    std::string(call.service != nullptr ? call.service->jsonVersion : "1.0");
    r.body = Json{{"__type", code}, {"message", status.message()}}.dump();
    // Services that also speak query (CloudWatch) name the query error code here too, which
    // clients of the query-compatible JSON protocol read.
    r.headers.emplace_back("x-amzn-query-error", code + (sender ? ";Sender" : ";Receiver"));
    break;
  case Protocol::Cbor:
    r.contentType = "application/cbor";
    r.body = wire::cborError(code, status.message());
    r.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
    r.headers.emplace_back("x-amzn-query-error", code + (sender ? ";Sender" : ";Receiver"));
    break;
  case Protocol::TideJson:
    return errorResponse(status);
  }
  return r;
}

AuthDialect dialectOf(const Call& call) {
  switch (call.protocol) {
  case Protocol::Ec2Query:
    return AuthDialect::Ec2;
  case Protocol::Query:
    return AuthDialect::Query;
  default:
    return AuthDialect::Json;
  }
}

bool isRegionName(std::string_view r) {
  return !r.empty() && r.size() <= 32 && std::all_of(r.begin(), r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Checks the signature of a routed request (nothing when ctx.auth is null: the actions' own
// tests) and sets the call's region from it. A refusal comes back in the call's protocol; a
// signature for another service than the one the request is for is refused as AWS refuses it.
std::optional<HttpResponse> refused(ActionContext& ctx, const Call& call,
                                    const HttpRequest& request) {
  if (ctx.auth == nullptr) {
    return std::nullopt;
  }
  AuthDialect dialect = dialectOf(call);
  Result<Caller> caller = authenticate(*ctx.auth, request, ctx.clock.now(), dialect);
  if (!caller) {
    return call.protocol == Protocol::TideJson ? errorResponse(caller.status())
                                               : awsError(call, caller.status());
  }
  if (!caller->region.empty() && !isRegionName(caller->region)) {
    return awsError(call, authError(sigv4::Failure::Incomplete, dialect,
                                    "the credential scope's region '" + caller->region +
                                        "' is not a region name (lowercase letters, digits, '-')"));
  }
  if (call.service != nullptr && !caller->service.empty() &&
      caller->service != call.service->signingName) {
    return awsError(call, authError(sigv4::Failure::Mismatch, dialect,
                                    "Credential should be scoped to correct service: '" +
                                        std::string(call.service->signingName) + "'"));
  }
  ctx.region = caller->region.empty() ? ctx.defaultRegion : caller->region;
  ctx.sessionCaller = caller->session;
  return std::nullopt;
}

// Page tokens: the offset of the next item and a fingerprint of the request it continues, so a
// token is refused with other parameters.
std::string pageToken(size_t offset, const Json& params) {
  return base64Encode(std::to_string(offset) + ":" +
                      std::to_string(std::hash<std::string>{}(params.dump())));
}

Result<size_t> pageOffset(const std::string& token, const Json& params, bool ec2) {
  Status invalid(ec2 ? "InvalidParameterValue" : "InvalidNextToken",
                 "The pagination token '" + token + "' is not one this request gave");
  std::optional<std::string> text = base64Decode(token);
  if (!text) {
    return invalid;
  }
  size_t colon = text->find(':');
  if (colon == std::string::npos || colon == 0 ||
      text->substr(colon + 1) != std::to_string(std::hash<std::string>{}(params.dump()))) {
    return invalid;
  }
  size_t offset = 0;
  for (char c : text->substr(0, colon)) {
    if (c < '0' || c > '9' || offset > 100'000'000) {
      return invalid;
    }
    offset = offset * 10 + static_cast<size_t>(c - '0');
  }
  return offset;
}

// Runs one action. Paginated operations with a page-size member (botocore's paginators) are
// paged here, the same way for every protocol: their handlers return every item, and this
// slices the result list by the page-size member and the token. Operations whose pages have a
// fixed size (CloudFormation's lists: no page-size member) are paged by their handlers.
Result<Json> invoke(ActionContext& ctx, const ActionEntry& action, const wire::Operation* op,
                    Json params, bool ec2) {
  std::optional<std::string> token;
  std::optional<int64_t> limit;
  bool paged = op != nullptr && !op->inputToken.empty() && !op->limitKey.empty();
  if (paged) {
    if (auto it = params.find(op->inputToken); it != params.end()) {
      if (!it->is_string()) {
        return Status(ec2 ? "InvalidParameterValue" : "ValidationError",
                      std::string(op->inputToken) + " must be a string");
      }
      token = it->get<std::string>();
      params.erase(it);
    }
    if (!op->limitKey.empty()) {
      if (auto it = params.find(op->limitKey); it != params.end()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 1) {
          return Status(ec2 ? "InvalidParameterValue" : "ValidationError",
                        std::string(op->limitKey) + " must be a whole number of at least 1");
        }
        limit = it->get<int64_t>();
        params.erase(it);
      }
    }
  }
  size_t offset = 0;
  if (token) {
    TIDE_ASSIGN_OR_RETURN(offset, pageOffset(*token, params, ec2));
  }
  Json fingerprint = paged ? params : Json();
  ScopedDuration timed(HealthTimer::ApiRequest, action.name); // /metrics: API latency
  TIDE_ASSIGN_OR_RETURN(
      Json result,
      withRequestSemantics(ctx, action.service, action.name, std::move(params),
                           [&](ActionContext& c, Json p) { return action.handler(c, p); }));
  if (!paged || !result.is_object()) {
    return result;
  }
  auto items = result.find(op->resultKey);
  if (items == result.end() || !items->is_array()) {
    return result;
  }
  size_t total = items->size();
  size_t begin = std::min(offset, total);
  size_t end = limit ? std::min(total, begin + static_cast<size_t>(*limit)) : total;
  if (begin != 0 || end != total) {
    Json page = Json::array();
    for (size_t i = begin; i < end; ++i) {
      page.push_back(std::move((*items)[i]));
    }
    *items = std::move(page);
  }
  if (end < total) {
    result[std::string(op->outputToken)] = pageToken(end, fingerprint);
  } else {
    result.erase(std::string(op->outputToken));
  }
  return result;
}

const ActionEntry* findEntry(const ActionContext& ctx, std::string_view service,
                             std::string_view name) {
  if (ctx.actions != nullptr) {
    return ctx.actions->find(service, name);
  }
  for (const ActionEntry& a : actionTable()) {
    if (a.service == service && a.name == name) {
      return &a;
    }
  }
  return nullptr;
}

Result<Json> invokeOperation(ActionContext& ctx, const Call& call, Json params) {
  const ActionEntry* action = findEntry(ctx, call.service->name, call.op->name);
  if (action == nullptr) {
    return Status("InvalidAction", "The action " + std::string(call.op->name) +
                                       " is not served by tide yet (docs/api.md lists those "
                                       "it serves)");
  }
  Result<Json> result =
      invoke(ctx, *action, call.op, std::move(params), call.protocol == Protocol::Ec2Query);
  if (!result && httpStatusFor(result.status().code()) >= 500) {
    logError(std::string(action->name) + " failed: " + result.status().toString());
  }
  return result;
}

HttpResponse handleQuery(ActionContext& ctx, const HttpRequest& request, std::string_view query) {
  Call call;
  call.protocol = Protocol::Query;
  wire::FormParams form;
  Status parsed = wire::parseForm(query, form);
  if (parsed.isOk() && request.method == "POST") {
    parsed = wire::parseForm(request.body, form);
  }
  auto version = form.find("Version");
  if (version != form.end()) {
    call.service = wire::findServiceByVersion(version->second);
  }
  if (call.service != nullptr && call.service->protocol == "ec2") {
    call.protocol = Protocol::Ec2Query;
  }
  if (auto no = refused(ctx, call, request)) {
    return *no;
  }
  if (!parsed.isOk()) {
    return awsError(call, parsed);
  }
  if (version == form.end()) {
    return awsError(call, Status("MissingParameter",
                                 "The request must contain the parameter Version (the API "
                                 "version of the service, for example 2016-11-15 for EC2)"));
  }
  if (call.service == nullptr || call.service->protocol == "json") {
    return awsError(call, Status("InvalidParameterValue",
                                 "tide serves no query API of version " + version->second));
  }
  auto action = form.find("Action");
  if (action == form.end() || action->second.empty()) {
    return awsError(call, Status("MissingAction", "The request must contain the parameter Action"));
  }
  call.op = wire::findOperation(call.service->name, action->second);
  if (call.op == nullptr) {
    return awsError(call, Status("InvalidAction", "The action " + action->second +
                                                      " is not valid for this web service"));
  }
  QueryDialect dialect =
      call.protocol == Protocol::Ec2Query ? QueryDialect::Ec2 : QueryDialect::Query;
  Result<Json> params = wire::decodeQuery(*call.op, form, dialect);
  if (!params) {
    return awsError(call, params.status());
  }
  Result<Json> result = invokeOperation(ctx, call, std::move(*params));
  if (!result) {
    return awsError(call, result.status());
  }
  HttpResponse r;
  r.contentType = "text/xml";
  r.headers.emplace_back("x-amzn-RequestId", call.requestId);
  r.body = wire::encodeXmlResponse(*call.service, *call.op, *result, call.requestId, dialect);
  return r;
}

HttpResponse handleAwsJson(ActionContext& ctx, const HttpRequest& request,
                           const wire::Service& service, std::string_view opName) {
  Call call;
  call.protocol = Protocol::AwsJson;
  call.service = &service;
  if (auto no = refused(ctx, call, request)) {
    return *no;
  }
  call.op = wire::findOperation(service.name, opName);
  if (call.op == nullptr) {
    return awsError(call, Status("UnknownOperationException",
                                 "The operation " + std::string(opName) + " is not valid for " +
                                     std::string(service.targetPrefix)));
  }
  Json body = Json::object();
  if (!request.body.empty()) {
    Result<Json> parsed = parseJsonText(request.body);
    if (!parsed) {
      return awsError(call, bodyError(parsed.status()));
    }
    if (!parsed->is_object()) {
      return awsError(call,
                      Status("SerializationException", "The request body must be a JSON object"));
    }
    body = std::move(*parsed);
  }
  if (call.op->input >= 0) {
    body = wire::jsonRequestToHandler(wire::shapeAt(call.op->input), std::move(body));
  }
  Result<Json> result = invokeOperation(ctx, call, std::move(body));
  if (!result) {
    return awsError(call, result.status());
  }
  HttpResponse r;
  r.contentType = "application/x-amz-json-" + std::string(service.jsonVersion);
  r.headers.emplace_back("x-amzn-RequestId", call.requestId);
  r.body = call.op->output >= 0
               ? wire::handlerResultToJson(wire::shapeAt(call.op->output), *result).dump()
               : "{}";
  return r;
}

// POST /service/<service id>/operation/<operation>, smithy-protocol: rpc-v2-cbor.
HttpResponse handleCbor(ActionContext& ctx, const HttpRequest& request, std::string_view path) {
  Call call;
  call.protocol = Protocol::Cbor;
  constexpr std::string_view kService = "/service/";
  constexpr std::string_view kOperation = "/operation/";
  size_t op = path.find(kOperation);
  if (request.method != "POST" || !path.starts_with(kService) || op == std::string_view::npos) {
    HttpResponse r = awsError(call, Status("UnknownOperationException",
                                           "Smithy RPC v2 CBOR requests are POST "
                                           "/service/<service>/operation/<operation>"));
    r.status = 404;
    return r;
  }
  std::string_view serviceId = path.substr(kService.size(), op - kService.size());
  std::string_view opName = path.substr(op + kOperation.size());
  call.service = wire::findServiceByCborId(serviceId);
  if (auto no = refused(ctx, call, request)) {
    return *no;
  }
  if (call.service != nullptr) {
    call.op = wire::findOperation(call.service->name, opName);
  }
  if (call.op == nullptr) {
    HttpResponse r = awsError(call, Status("UnknownOperationException",
                                           "tide serves no operation " + std::string(opName) +
                                               " of " + std::string(serviceId) + " over CBOR"));
    r.status = 404;
    return r;
  }
  Result<Json> params = wire::cborRequestToHandler(
      call.op->input >= 0 ? &wire::shapeAt(call.op->input) : nullptr, request.body);
  if (!params) {
    return awsError(call, params.status());
  }
  Result<Json> result = invokeOperation(ctx, call, std::move(*params));
  if (!result) {
    return awsError(call, result.status());
  }
  HttpResponse r;
  r.contentType = "application/cbor";
  r.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
  r.headers.emplace_back("x-amzn-RequestId", call.requestId);
  if (call.op->output >= 0) { // an operation without output answers an empty body
    r.body = wire::handlerResultToCbor(wire::shapeAt(call.op->output), *result);
  }
  return r;
}

bool isForm(const HttpRequest& request) {
  const std::string* type = request.header("content-type");
  if (type == nullptr) {
    return false;
  }
  std::string_view t = trim(*type);
  std::string_view kForm = "application/x-www-form-urlencoded";
  return t.size() >= kForm.size() && equalsIgnoreCase(t.substr(0, kForm.size()), kForm);
}

HttpResponse handleTideJson(ActionContext& ctx, const HttpRequest& request) {
  if (auto no = refused(ctx, Call{}, request)) {
    return *no;
  }
  if (request.method != "POST") {
    HttpResponse r = errorResponse(Status(
        "UnsupportedProtocol", "Send actions as POST / with an X-Amz-Target header naming the "
                               "action and the parameters as a JSON object, or in one of AWS's "
                               "protocols (docs/api.md)"));
    r.status = 405;
    return r;
  }
  const std::string* target = request.header("x-amz-target");
  if (target == nullptr || target->empty()) {
    return errorResponse(Status("MissingAction", "The X-Amz-Target header must name the action"));
  }
  if (!isValidUtf8(*target)) {
    // What AWS's JSON protocol answers for a target it does not know.
    return errorResponse(Status("UnknownOperationException",
                                "The X-Amz-Target header '" + escapeInvalidUtf8(*target) +
                                    "' is not valid UTF-8, so it names no operation"));
  }
  std::string_view name = *target;
  std::string_view prefix;
  if (size_t dot = name.rfind('.'); dot != std::string_view::npos) {
    prefix = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  // A prefix naming a service ("autoscaling.DescribeTags") picks that service's action where
  // services share a name; otherwise the first action of the name.
  const ActionEntry* action = prefix.empty() ? nullptr : findEntry(ctx, prefix, name);
  if (action == nullptr) {
    action = ctx.actions != nullptr ? ctx.actions->find(name) : findAction(name);
  }
  if (action == nullptr) {
    return errorResponse(Status("InvalidAction", "The action '" + std::string(name) +
                                                     "' is not valid for this web service"));
  }
  Json params = Json::object();
  if (!request.body.empty()) {
    Result<Json> parsed = parseJsonText(request.body);
    if (!parsed) {
      return errorResponse(bodyError(parsed.status()));
    }
    if (!parsed->is_object()) {
      return errorResponse(
          Status("SerializationException", "The request body must be a JSON object"));
    }
    params = std::move(*parsed);
  }
  const wire::Operation* op = wire::findOperation(action->service, action->name);
  Result<Json> result = invoke(ctx, *action, op, std::move(params), action->service == "ec2");
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

} // namespace

int httpStatusFor(const std::string& code) {
  struct Row {
    std::string_view code;
    int status;
  };
  static const Row kRows[] = {
      {"InternalError", 500},
      {"InternalFailure", 500},
      {"ServiceUnavailable", 503},
      {"UnknownOperationException", 400},
      {"DryRunOperation", 412},
      {"AuthFailure", 401},
      {"MissingAuthenticationToken", 403},
      {"MissingAuthenticationTokenException", 403},
      {"IncompleteSignature", 403},
      {"IncompleteSignatureException", 403},
      {"InvalidClientTokenId", 403},
      {"UnrecognizedClientException", 403},
      {"SignatureDoesNotMatch", 403},
      {"ExpiredToken", 403},
      {"ExpiredTokenException", 403},
      {"AccessDenied", 403},
      {"InvalidSignatureException", 403},
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
  // A message may quote the request (a target, a path): kept UTF-8 so that dump() holds it.
  r.body = Json{{"__type", escapeInvalidUtf8(status.code())},
                {"message", escapeInvalidUtf8(status.message())}}
               .dump();
  return r;
}

HttpResponse handleApiRequest(ActionContext& ctx, const HttpRequest& request) {
  // The region is the request's own (its signature's); work the controllers do between requests
  // is named with the server's.
  struct RestoreRegion {
    ActionContext& ctx;
    ~RestoreRegion() {
      ctx.region = ctx.defaultRegion;
      ctx.sessionCaller = false;
      ctx.peer.clear();
    }
  } restore{ctx};
  ctx.peer = request.peer;
  return routeApiRequest(ctx, request);
}

namespace {

HttpResponse routeApiRequest(ActionContext& ctx, const HttpRequest& request) {
  std::string_view target = request.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (request.method == "GET" && target == "/") {
    HttpResponse r;
    r.body = Json{{"Service", "tide"}, {"Version", "0.1.0"}}.dump();
    return r;
  }
  if (const std::string* p = request.header("smithy-protocol"); p != nullptr) {
    if (*p != "rpc-v2-cbor") {
      return errorResponse(Status("UnsupportedProtocol", "tide speaks smithy-protocol "
                                                         "rpc-v2-cbor, not '" +
                                                             *p + "'"));
    }
    return handleCbor(ctx, request, path);
  }
  if (const std::string* t = request.header("x-amz-target"); t != nullptr) {
    std::string_view name = *t;
    size_t dot = name.rfind('.');
    if (dot != std::string_view::npos) {
      if (const wire::Service* s = wire::findServiceByTargetPrefix(name.substr(0, dot))) {
        return handleAwsJson(ctx, request, *s, name.substr(dot + 1));
      }
    }
    return handleTideJson(ctx, request);
  }
  if ((request.method == "POST" && isForm(request)) ||
      ((request.method == "GET" || request.method == "POST") && path == "/" && !query.empty())) {
    return handleQuery(ctx, request, query);
  }
  return handleTideJson(ctx, request);
}

} // namespace

} // namespace tide::api

#include "console/console.h"

#include "api/auth.h"
#include "api/dispatch.h"
#include "api/json_text.h"
#include "common/log.h"
#include "console/assets.h"

#include <algorithm>

namespace tide::console {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kRoot = "/console";

// The actions the page may call: what a person does to watch the architecture react (docs/
// console.md "Acting"). Adding one is adding a row.
struct AllowedAction {
  std::string_view name;
  std::string_view service;
};
constexpr AllowedAction kAllowedActions[] = {
    {"SetDesiredCapacity", "autoscaling"}, // grow or shrink a group by hand
    {"SetInstanceHealth", "autoscaling"},  // mark an instance Unhealthy: the group replaces it
    {"TerminateInstances", "ec2"},         // an instance lost: the group replaces it
    {"StopInstances", "ec2"},              // an instance stopped: its health checks fail
    {"StartInstances", "ec2"},             // back again
    {"SetAlarmState", "monitoring"},       // pretend an alarm fired (its policy runs)
};

std::string_view pathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view queryOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

// The raw value of a query parameter (tokens are hex: nothing to decode), or empty.
std::string_view queryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return {};
}

api::HttpResponse jsonResponse(const Json& body) {
  api::HttpResponse r;
  r.body = body.dump();
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

api::HttpResponse errorOf(const Status& s) {
  api::HttpResponse r = api::errorResponse(s);
  if (s.code() == "AccessDeniedException") {
    r.status = 403;
  }
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

api::HttpResponse notFound(std::string_view path) {
  api::HttpResponse r =
      api::errorResponse(Status("NotFound", "the console has nothing at " + std::string(path)));
  r.status = 404;
  return r;
}

Result<Json> parseBody(const api::HttpRequest& request) {
  Result<Json> body = api::parseJsonText(request.body.empty() ? "{}" : request.body);
  if (!body) {
    return Status("SerializationException",
                  "the request body is not valid JSON: " + body.status().message());
  }
  if (!body->is_object()) {
    return Status("SerializationException", "the request body must be a JSON object");
  }
  return std::move(*body);
}

} // namespace

api::HttpRequest withHeaderCredentialsOnly(const api::HttpRequest& request) {
  api::HttpRequest out;
  out.method = request.method;
  out.target = std::string(pathOf(request.target));
  out.peer = request.peer;
  for (const auto& [name, value] : request.headers) {
    if (name == "cookie" || name == "authorization" || name == "x-tide-token") {
      continue;
    }
    out.headers.push_back({name, value});
  }
  if (const std::string* auth = request.header("authorization")) {
    out.headers.push_back({"authorization", *auth});
  } else if (const std::string* token = request.header("x-tide-token")) {
    out.headers.push_back({"authorization", "Bearer " + *token});
  }
  return out;
}

Console::Console(api::ActionContext& ctx, const control::Publisher& publisher,
                 CounterSource counters, ConsoleOptions options)
    : ctx_(ctx), publisher_(publisher), counters_(std::move(counters)),
      options_(std::move(options)),
      load_(options_.selfExe, options_.dataDir + "/console-load.log") {}

bool Console::handles(std::string_view target) {
  std::string_view path = pathOf(target);
  return path == kRoot || path.starts_with("/console/");
}

void Console::stopLoad() {
  (void)load_.stop();
}

api::HttpResponse Console::handle(const api::HttpRequest& request) {
  std::string_view path = pathOf(request.target);
  if (path == kRoot) {
    api::HttpResponse r;
    r.status = 302;
    r.contentType = "text/plain; charset=utf-8";
    std::string_view query = queryOf(request.target);
    r.headers.push_back(
        {"Location", "/console/" + (query.empty() ? "" : "?" + std::string(query))});
    r.body = "the console is at /console/\n";
    return r;
  }
  std::string_view rest = path.substr(kRoot.size() + 1); // after "/console/"
  if (rest.starts_with("api/")) {
    if (rest == "api/state" && request.method == "GET") {
      Status allowed = api::authorizeViewer(ctx_.auth, request);
      return allowed.isOk() ? state() : errorOf(allowed);
    }
    if (rest == "api/metrics" && request.method == "POST") {
      Status allowed = api::authorizeViewer(ctx_.auth, request);
      return allowed.isOk() ? metrics(request) : errorOf(allowed);
    }
    if (rest == "api/call" && request.method == "POST") {
      return call(request);
    }
    if (rest == "api/state" || rest == "api/metrics" || rest == "api/call") {
      api::HttpResponse r = errorOf(
          Status("MethodNotAllowed", std::string(rest) + " does not take " + request.method));
      r.status = 405;
      return r;
    }
    return notFound(path);
  }
  if (request.method != "GET" && request.method != "HEAD") {
    api::HttpResponse r = errorOf(Status("MethodNotAllowed", "the console's files take GET"));
    r.status = 405;
    return r;
  }
  return page(request, rest.empty() ? "index.html" : rest);
}

api::HttpResponse Console::page(const api::HttpRequest& request, std::string_view file) {
  const EmbeddedFile* f = findEmbeddedFile(file);
  if (f == nullptr) {
    return notFound(pathOf(request.target));
  }
  api::HttpResponse r;
  r.contentType = std::string(contentTypeOf(file));
  r.body = std::string(f->body);
  // The page and its files are the same for everyone (no data in them); what they show comes
  // from /console/api/ with the token. A page opened with a valid ?token= keeps it in a cookie
  // for the event stream (EventSource cannot send headers); reads accept it, actions do not.
  r.headers.push_back({"Cache-Control", "no-cache"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  if (file == "index.html") {
    r.headers.push_back({"Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"});
    std::string_view token = queryParameter(queryOf(request.target), "token");
    if (!token.empty() && api::authorizeViewer(ctx_.auth, request).isOk() &&
        std::all_of(token.begin(), token.end(), [](char c) { return std::isxdigit(c); })) {
      r.headers.push_back({"Set-Cookie", "tide_token=" + std::string(token) +
                                             "; Path=/; HttpOnly; SameSite=Strict"});
    }
  }
  return r;
}

api::HttpResponse Console::metrics(const api::HttpRequest& request) {
  Result<Json> body = parseBody(request);
  if (!body) {
    return errorOf(body.status());
  }
  const api::ActionEntry* e = ctx_.actions != nullptr
                                  ? ctx_.actions->find("monitoring", "GetMetricData")
                                  : api::findAction("GetMetricData");
  if (e == nullptr) {
    return errorOf(Status("ServiceUnavailable", "this server has no GetMetricData"));
  }
  ctx_.region = ctx_.defaultRegion;
  Result<Json> out = e->handler(ctx_, *body);
  return out ? jsonResponse(*out) : errorOf(out.status());
}

api::HttpResponse Console::call(const api::HttpRequest& request) {
  // Acting needs the token in a header, and a header also makes a cross-site form or fetch
  // impossible without a preflight tide never answers: required even with --auth none.
  if (request.header("x-tide-token") == nullptr && request.header("authorization") == nullptr) {
    return errorOf(Status("AccessDeniedException",
                          "actions need the viewer token in an X-Tide-Token or Authorization "
                          "header (a cookie alone is not enough)"));
  }
  Status allowed = api::authorizeViewer(ctx_.auth, withHeaderCredentialsOnly(request));
  if (!allowed.isOk()) {
    return errorOf(allowed);
  }
  Result<Json> body = parseBody(request);
  if (!body) {
    return errorOf(body.status());
  }
  auto action = body->find("Action");
  if (action == body->end() || !action->is_string()) {
    return errorOf(Status("MissingParameter", "the request must name an Action"));
  }
  Json params = body->value("Params", Json::object());
  if (!params.is_object()) {
    return errorOf(validationError("Params must be a JSON object"));
  }
  std::string name = action->get<std::string>();
  if (name == "StartLoad") {
    Result<Json> out = startLoad(params);
    return out ? jsonResponse(*out) : errorOf(out.status());
  }
  if (name == "StopLoad") {
    Status stopped = load_.stop();
    return stopped.isOk() ? jsonResponse({{"Load", load_.state()}}) : errorOf(stopped);
  }
  for (const AllowedAction& a : kAllowedActions) {
    if (a.name != name) {
      continue;
    }
    const api::ActionEntry* e =
        ctx_.actions != nullptr ? ctx_.actions->find(a.service, a.name) : api::findAction(a.name);
    if (e == nullptr) {
      break;
    }
    ctx_.region = ctx_.defaultRegion;
    ctx_.sessionCaller = false;
    Result<Json> out = e->handler(ctx_, params);
    if (!out) {
      return errorOf(out.status());
    }
    logInfo("console: " + name + " " + params.dump());
    return jsonResponse(*out);
  }
  return errorOf(Status("InvalidAction", "the console does not call '" + name +
                                             "' (it calls SetDesiredCapacity, SetInstanceHealth, "
                                             "TerminateInstances, StopInstances, StartInstances, "
                                             "SetAlarmState, StartLoad and StopLoad)"));
}

Result<Json> Console::startLoad(const Json& params) {
  auto arn = params.find("LoadBalancerArn");
  auto profile = params.find("Profile");
  if (arn == params.end() || !arn->is_string() || profile == params.end() ||
      !profile->is_string()) {
    return Status("MissingParameter", "StartLoad needs LoadBalancerArn and Profile (a preset "
                                      "of tide load, or phases such as steady:50:2m)");
  }
  std::string path = params.value("Path", std::string("/"));
  if (path.empty() || path[0] != '/' || path.find_first_of(" \t\r\n") != std::string::npos ||
      path.size() > 1024) {
    return validationError("Path must start with / and hold no spaces");
  }
  // The URL is the load balancer's own (its address and first listener's port): the console
  // drives only what tide serves.
  std::string url, name;
  Status found = ctx_.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(arn->get<std::string>()));
        if (!lb) {
          return Status("LoadBalancerNotFound",
                        "One or more load balancers not found: " + arn->get<std::string>());
        }
        TIDE_ASSIGN_OR_RETURN(auto listeners, tx.listeners());
        for (const model::Listener& l : listeners) {
          if (l.loadBalancerArn == lb->loadBalancerArn && l.protocol == "HTTP") {
            std::string host = lb->ipAddress.empty() ? "127.0.0.1" : lb->ipAddress;
            url = "http://" + host + ":" + std::to_string(l.port) + path;
            name = lb->loadBalancerName;
            return Status::ok();
          }
        }
        return validationError("load balancer " + lb->loadBalancerName +
                               " has no HTTP listener to send load to");
      },
      false);
  TIDE_RETURN_IF_ERROR(found);
  TIDE_RETURN_IF_ERROR(load_.start(url, profile->get<std::string>(), name, ctx_.clock.now()));
  logInfo("console: load " + profile->get<std::string>() + " against " + url);
  return Json{{"Load", load_.state()}};
}

} // namespace tide::console

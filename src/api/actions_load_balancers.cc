// CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer, Modify/Describe
// LoadBalancerAttributes, CreateListener, DescribeListeners, DeleteListener.
//
// These record desired state; the publisher (control) turns it into the balancer's snapshot.
#include "api/elb_shapes.h"
#include "api/handlers.h"
#include "api/listener_tls.h"
#include "api/params.h"
#include "common/ids.h"
#include "model/validation.h"
#include "operations/load_balancer_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>

namespace tide::api {

namespace {

Status lbNotFound(const std::string& what) {
  return Status("LoadBalancerNotFound", "One or more load balancers not found: " + what);
}

Result<model::LoadBalancer> findLoadBalancer(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(arn));
  if (!lb.has_value()) {
    return lbNotFound("'" + arn + "'");
  }
  return std::move(*lb);
}

// Runs a read-only transaction.
Status read(ActionContext& ctx, const std::function<Status(store::Tx&)>& fn) {
  return ctx.store.transact(fn, false);
}

// S3's bucket naming rules: 3..63 of lowercase letters, digits, '.' and '-', starting and ending
// with a letter or digit, no "..".
bool validBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63 || b.find("..") != std::string::npos) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) {
    return false;
  }
  return std::all_of(b.begin(), b.end(), [&](char c) { return alnum(c) || c == '.' || c == '-'; });
}

// The limit and access log attributes (docs/load-balancer.md); nullopt for any other key.
std::optional<Status> applyLimitOrLogAttribute(model::LoadBalancer& lb, const std::string& key,
                                               const std::string& value) {
  auto setInt = [&](int& field, int lo, int hi) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, lo, hi));
    field = v;
    return Status::ok();
  };
  if (key == "tide.http.max_uri_bytes") {
    return setInt(lb.maxUriBytes, 256, 1024 * 1024);
  }
  if (key == "tide.http.max_request_body_bytes") {
    return setInt(lb.maxRequestBodyBytes, 0, 2147483647);
  }
  if (key == "tide.http.request_header_timeout_seconds") {
    return setInt(lb.requestHeaderTimeoutSeconds, 1, 4000);
  }
  if (key == "tide.listener.max_connections") {
    return setInt(lb.maxConnectionsPerListener, 1, 1000000);
  }
  if (key == "tide.listener.max_connections_per_client") {
    return setInt(lb.maxConnectionsPerClient, 0, 1000000);
  }
  if (key == "access_logs.s3.enabled") {
    if (value != "true" && value != "false") {
      return validationError("Attribute " + key + " must be true or false, got '" + value + "'");
    }
    lb.accessLogsEnabled = value == "true";
    return Status::ok();
  }
  if (key == "access_logs.s3.bucket") {
    if (!value.empty() && !validBucketName(value)) {
      return validationError("Attribute " + key + " must be a bucket name: 3 to 63 lowercase " +
                             "letters, digits, '.' and '-', starting and ending with a letter " +
                             "or digit, got '" + value + "'");
    }
    lb.accessLogsBucket = value;
    return Status::ok();
  }
  if (key == "access_logs.s3.prefix") {
    if (value.find("AWSLogs") != std::string::npos) {
      return validationError("Attribute " + key + " must not contain AWSLogs, got '" + value + "'");
    }
    bool charsOk = std::all_of(value.begin(), value.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) ||
             std::string_view("!-_.*'()/").find(c) != std::string_view::npos;
    });
    std::string wrapped = "/" + value + "/";
    if (!value.empty() &&
        (value.size() > 200 || !charsOk || value.front() == '/' || value.back() == '/' ||
         wrapped.find("//") != std::string::npos || wrapped.find("/./") != std::string::npos ||
         wrapped.find("/../") != std::string::npos)) {
      return validationError("Attribute " + key + " must be up to 200 letters, digits and " +
                             "!-_.*'() in '/'-separated parts (no empty, '.' or '..' part, no " +
                             "leading or trailing '/'), got '" + value + "'");
    }
    lb.accessLogsPrefix = value;
    return Status::ok();
  }
  return std::nullopt;
}

} // namespace

Result<Json> createLoadBalancer(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"Name", "Subnets", "SubnetMappings", "SecurityGroups", "Scheme", "Tags",
                           "Type", "IpAddressType", "BindAddress"}));
  auto name = reqString(p, "Name");
  auto type = optString(p, "Type");
  auto bind = optString(p, "BindAddress");
  auto tags = elbTags(p);
  auto groups = optStringList(p, "SecurityGroups");
  TIDE_RETURN_IF_ERROR(firstError(
      {&name.status(), &type.status(), &bind.status(), &tags.status(), &groups.status()}));
  std::vector<std::string> subnetIds;
  if (p.contains("Subnets") || p.contains("SubnetMappings")) {
    TIDE_ASSIGN_OR_RETURN(subnetIds, subnetIdsOf(p));
  }
  TIDE_RETURN_IF_ERROR(model::validateElbName(*name, "Load balancer"));
  TIDE_RETURN_IF_ERROR(model::validateTags(*tags));
  if (type->value_or("application") != "application") {
    return Status("UnsupportedProtocol", "Load balancer type '" + **type +
                                             "' is not supported: tide runs application load "
                                             "balancers");
  }
  model::LoadBalancer lb;
  lb.loadBalancerName = *name;
  lb.loadBalancerArn = elbArn(ctx, "loadbalancer/app/" + *name + "/" + randomHex(16));
  if (bind->has_value()) {
    in_addr addr{};
    if (inet_pton(AF_INET, (*bind)->c_str(), &addr) != 1) {
      return validationError("BindAddress '" + **bind + "' must be an IPv4 address");
    }
    lb.ipAddress = **bind;
  }
  lb.createdTime = ctx.clock.now();
  lb.tags = *tags;
  Json shown;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.loadBalancerByName(lb.loadBalancerName));
    if (existing.has_value()) {
      return Status("DuplicateLoadBalancerName",
                    "A load balancer named '" + lb.loadBalancerName + "' already exists");
    }
    if (!subnetIds.empty()) {
      TIDE_ASSIGN_OR_RETURN(lb.subnetIds, checkLoadBalancerSubnets(tx, subnetIds));
    }
    TIDE_RETURN_IF_ERROR(checkLoadBalancerSecurityGroups(tx, lb, *groups));
    lb.securityGroupIds = *groups;
    if (lb.ipAddress.empty()) {
      TIDE_ASSIGN_OR_RETURN(lb.ipAddress,
                            operations::chooseLoadBalancerAddress(tx, ctx.loadBalancerAddresses));
    }
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
    TIDE_ASSIGN_OR_RETURN(shown, loadBalancerJsonIn(tx, lb, ctx));
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LoadBalancers", Json::array({shown})}};
}

Result<Json> describeLoadBalancers(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArns", "Names", "Marker", "PageSize"}));
  auto arns = optStringList(p, "LoadBalancerArns");
  auto names = optStringList(p, "Names");
  TIDE_RETURN_IF_ERROR(firstError({&arns.status(), &names.status()}));
  Json out = Json::array();
  Status s = read(ctx, [&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto all, tx.loadBalancers());
    for (const auto& want : *arns) {
      if (std::none_of(all.begin(), all.end(),
                       [&](const auto& lb) { return lb.loadBalancerArn == want; })) {
        return lbNotFound("'" + want + "'");
      }
    }
    for (const auto& want : *names) {
      if (std::none_of(all.begin(), all.end(),
                       [&](const auto& lb) { return lb.loadBalancerName == want; })) {
        return lbNotFound("'" + want + "'");
      }
    }
    for (const auto& lb : all) {
      bool named = std::find(arns->begin(), arns->end(), lb.loadBalancerArn) != arns->end() ||
                   std::find(names->begin(), names->end(), lb.loadBalancerName) != names->end();
      if ((arns->empty() && names->empty()) || named) {
        TIDE_ASSIGN_OR_RETURN(Json j, loadBalancerJsonIn(tx, lb, ctx));
        out.push_back(std::move(j));
      }
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"LoadBalancers", out}};
}

Result<Json> deleteLoadBalancer(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "LoadBalancerArn"));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto lb, findLoadBalancer(tx, arn));
    return tx.deleteLoadBalancer(arn); // and its listeners
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> modifyLoadBalancerAttributes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArn", "Attributes"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "LoadBalancerArn"));
  TIDE_ASSIGN_OR_RETURN(auto attrs, attributes(p));
  model::LoadBalancer lb;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findLoadBalancer(tx, arn));
    lb = std::move(found);
    for (const auto& [key, value] : attrs) {
      if (key == "idle_timeout.timeout_seconds") {
        TIDE_ASSIGN_OR_RETURN(auto v, intAttribute(key, value, 1, 4000));
        lb.idleTimeoutSeconds = v;
      } else if (key == "routing.http.desync_mitigation_mode") {
        if (value != "monitor" && value != "defensive" && value != "strictest") {
          return validationError("Attribute " + key +
                                 " must be monitor, defensive or strictest, got '" + value + "'");
        }
        lb.desyncMitigationMode = value;
      } else if (key == "deletion_protection.enabled") {
        if (value != "false") {
          return validationError("deletion_protection.enabled is not supported yet");
        }
      } else if (std::optional<Status> st = applyLimitOrLogAttribute(lb, key, value)) {
        if (!st->isOk()) {
          return *st;
        }
      } else {
        return validationError("Unknown or unsupported load balancer attribute '" + key + "'");
      }
    }
    if (lb.accessLogsEnabled && lb.accessLogsBucket.empty()) {
      return validationError("Attribute access_logs.s3.bucket is required when "
                             "access_logs.s3.enabled is true");
    }
    return tx.putLoadBalancer(lb);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Attributes", loadBalancerAttributesJson(lb)}};
}

Result<Json> describeLoadBalancerAttributes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "LoadBalancerArn"));
  Json out;
  Status s = read(ctx, [&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto lb, findLoadBalancer(tx, arn));
    out = loadBalancerAttributesJson(lb);
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Attributes", out}};
}

Result<Json> createListener(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LoadBalancerArn", "Protocol", "Port", "DefaultActions",
                                            "SslPolicy", "Certificates", "AlpnPolicy", "Tags"}));
  auto lbArn = reqString(p, "LoadBalancerArn");
  auto protocol = optString(p, "Protocol");
  auto port = optInt(p, "Port");
  auto tags = elbTags(p);
  TIDE_RETURN_IF_ERROR(
      firstError({&lbArn.status(), &protocol.status(), &port.status(), &tags.status()}));
  TIDE_RETURN_IF_ERROR(model::validateTags(*tags));
  if (!port->has_value() || **port < 1 || **port > 65535) {
    return validationError("Port must be 1 to 65535");
  }
  if (!p.contains("DefaultActions")) {
    return Status("MissingParameter", "The request must contain DefaultActions");
  }
  TIDE_ASSIGN_OR_RETURN(auto actions, parseListenerActions(p["DefaultActions"]));
  model::Listener l;
  l.loadBalancerArn = *lbArn;
  l.port = static_cast<int>(**port);
  l.defaultActions = actions;
  l.tags = *tags;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto lb, findLoadBalancer(tx, *lbArn));
    l.listenerArn = elbArn(ctx, "listener/app/" + lb.loadBalancerName + "/" +
                                    lb.loadBalancerArn.substr(lb.loadBalancerArn.size() - 16) +
                                    "/" + randomHex(16));
    TIDE_RETURN_IF_ERROR(applyListenerTls(tx, p, l)); // HTTPS: SslPolicy, Certificates
    TIDE_RETURN_IF_ERROR(checkListenerPort(ctx, tx, lb, l.port));
    TIDE_RETURN_IF_ERROR(checkForwardTargets(tx, l.loadBalancerArn, l.defaultActions));
    return tx.putListener(l);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Listeners", Json::array({listenerJson(l)})}};
}

Result<Json> describeListeners(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LoadBalancerArn", "ListenerArns", "Marker", "PageSize"}));
  auto lbArn = optString(p, "LoadBalancerArn");
  auto arns = optStringList(p, "ListenerArns");
  TIDE_RETURN_IF_ERROR(firstError({&lbArn.status(), &arns.status()}));
  if (!lbArn->has_value() && arns->empty()) {
    return validationError("Give LoadBalancerArn or ListenerArns");
  }
  Json out = Json::array();
  Status s = read(ctx, [&](store::Tx& tx) -> Status {
    if (lbArn->has_value()) {
      TIDE_ASSIGN_OR_RETURN(auto lb, findLoadBalancer(tx, **lbArn));
    }
    TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
    for (const auto& want : *arns) {
      if (std::none_of(all.begin(), all.end(),
                       [&](const auto& l) { return l.listenerArn == want; })) {
        return Status("ListenerNotFound", "Listener '" + want + "' not found");
      }
    }
    for (const auto& l : all) {
      bool wanted =
          arns->empty() || std::find(arns->begin(), arns->end(), l.listenerArn) != arns->end();
      if (wanted && (!lbArn->has_value() || l.loadBalancerArn == **lbArn)) {
        out.push_back(listenerJson(l));
      }
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Listeners", out}};
}

Result<Json> deleteListener(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "ListenerArn"));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, arn));
    return tx.deleteListener(arn);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

} // namespace tide::api

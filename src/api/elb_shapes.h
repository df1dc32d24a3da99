// ELBv2 resources in the AWS response shapes, and the parts of requests they are read from.
#pragma once

#include "api/action.h"
#include "model/elb.h"
#include "store/store.h"

namespace tide::api {

// "arn:aws:elasticloadbalancing:local:000000000000:" + resource.
std::string elbArn(const std::string& resource);

Json loadBalancerJson(const model::LoadBalancer& lb);
// LoadBalancerArns are those whose listeners forward to the group.
Json targetGroupJson(const model::TargetGroup& tg, const std::vector<model::Listener>& listeners);
Json listenerJson(const model::Listener& l);
Json targetHealthJson(const model::Target& t, const model::TargetGroup& tg);

// Attributes as [{Key, Value}].
Json loadBalancerAttributesJson(const model::LoadBalancer& lb);
Json targetGroupAttributesJson(const model::TargetGroup& tg);

// DefaultActions: exactly one forward (TargetGroupArn, or ForwardConfig with one group) or
// fixed-response action.
Result<std::vector<model::ListenerAction>> parseListenerActions(const Json& actions);

// Whether a listener forwards to the group.
bool forwardsTo(const model::Listener& l, const std::string& targetGroupArn);

} // namespace tide::api

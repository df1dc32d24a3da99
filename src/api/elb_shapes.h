// ELBv2 resources in the AWS response shapes, and the parts of requests they are read from.
#pragma once

#include "api/action.h"
#include "model/elb.h"
#include "store/store.h"

namespace tide::api {

// "arn:aws:elasticloadbalancing:REGION:ACCOUNT:" + resource, for the request's region and account.
std::string elbArn(const ActionContext& ctx, const std::string& resource);

Json loadBalancerJson(const model::LoadBalancer& lb);
// LoadBalancerArns are those whose listeners forward to the group.
Json targetGroupJson(const model::TargetGroup& tg, const std::vector<model::Listener>& listeners);
Json listenerJson(const model::Listener& l);
Json targetHealthJson(const model::Target& t, const model::TargetGroup& tg);

// Attributes as [{Key, Value}].
Json loadBalancerAttributesJson(const model::LoadBalancer& lb);
Json targetGroupAttributesJson(const model::TargetGroup& tg);

// Actions (DefaultActions of a listener, Actions of a rule; `what` names them in errors):
// exactly one forward (TargetGroupArn, or ForwardConfig with 1..5 weighted groups), redirect
// (RedirectConfig) or fixed-response (FixedResponseConfig), checked by validateListenerAction.
Result<std::vector<model::ListenerAction>>
parseListenerActions(const Json& actions, const std::string& what = "DefaultActions");
Json actionsJson(const std::vector<model::ListenerAction>& actions);

// Rule Conditions [{Field, Values | *Config}], checked by validateRuleConditions.
Result<std::vector<model::RuleCondition>> parseRuleConditions(const Json& conditions);
// A rule in the AWS shape (Priority as a string, IsDefault false).
Json ruleJson(const model::Rule& r);
// The listener's default rule: Priority "default", IsDefault true, its DefaultActions.
Json defaultRuleJson(const model::Listener& l);
// The default rule's ARN (derived from the listener's).
std::string defaultRuleArn(const model::Listener& l);

// The stored listener, or ListenerNotFound.
Result<model::Listener> findListener(store::Tx& tx, const std::string& arn);

// TargetGroupNotFound for a forward action's group that does not exist;
// TargetGroupAssociationLimit for one another load balancer forwards to.
Status checkForwardTargets(store::Tx& tx, const std::string& loadBalancerArn,
                           const std::vector<model::ListenerAction>& actions);

// A listener of `lb` may take `port`: no other listener is on the same address and port
// (DuplicateListener; load balancers have addresses of their own, so only one with the same
// BindAddress can clash), and the balancer can listen there now (the host's answer, such as
// InvalidConfigurationRequest for a privileged port without root).
Status checkListenerPort(ActionContext& ctx, store::Tx& tx, const model::LoadBalancer& lb,
                         int port);

// actions_elb_tags.cc: a load balancer's network placement.
// The ids of Subnets or SubnetMappings [{SubnetId}]; ValidationError when neither names one.
Result<std::vector<std::string>> subnetIdsOf(const Json& p);
// The subnets exist (SubnetNotFound), share a VPC and are in two or more zones, one each
// (InvalidConfigurationRequest). Returns the ids.
Result<std::vector<std::string>> checkLoadBalancerSubnets(store::Tx& tx,
                                                          const std::vector<std::string>& ids);
// The groups exist and are in the load balancer's VPC (InvalidSecurityGroup), none twice.
Status checkLoadBalancerSecurityGroups(store::Tx& tx, const model::LoadBalancer& lb,
                                       const std::vector<std::string>& ids);
// loadBalancerJson with its AvailabilityZones (ZoneName, SubnetId), VpcId and SecurityGroups
// read from the store (the default VPC's default subnets and group when none were given).
Result<Json> loadBalancerJsonIn(store::Tx& tx, const model::LoadBalancer& lb,
                                const ActionContext& ctx);

// Whether a listener forwards to the group.
bool forwardsTo(const model::Listener& l, const std::string& targetGroupArn);

} // namespace tide::api

// Load balancers' DNS names. On AWS an ALB named NAME is reached at
// NAME-DIGITS.REGION.elb.amazonaws.com; tide's names have the same form under `.localhost`,
// which curl and browsers resolve to loopback without any resolver set-up (RFC 6761 §6.3), so
// that a URL built from DNSName reaches the balancer. Which load balancer a request on the
// shared 127.0.0.1 listener means is read from its Host header (docs/load-balancer.md).
#pragma once

#include <string>
#include <string_view>

namespace tide::model {

// "NAME-DIGITS.REGION.elb.localhost" for the load balancer with that ARN
// (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID). DIGITS are ten
// decimal digits derived from ID (16 hex digits), so the name stays the same for the life of
// the load balancer and differs between two of the same name made one after the other. The
// name keeps its case (DNS ignores case, and so does Host routing). An ARN that is not of that
// form (cannot happen for stored rows) gives "NAME.elb.localhost".
std::string loadBalancerDnsName(std::string_view arn, std::string_view name);

} // namespace tide::model

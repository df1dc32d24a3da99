#include "operations/load_balancer_address.h"

#include <set>

namespace tide::operations {

namespace {

Result<std::set<std::string>> heldAddresses(store::Tx& tx) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.loadBalancers());
  std::set<std::string> used;
  for (const model::LoadBalancer& lb : all) {
    if (!lb.ipAddress.empty()) {
      used.insert(lb.ipAddress);
    }
  }
  return used;
}

AddressSource& sourceOr(AddressSource* source, WholeSubnet& whole) {
  return source != nullptr ? *source : whole;
}

} // namespace

Result<std::string> chooseLoadBalancerAddress(store::Tx& tx, AddressSource* source) {
  TIDE_ASSIGN_OR_RETURN(auto used, heldAddresses(tx));
  WholeSubnet whole(kLoadBalancerAddresses);
  return chooseAddress(sourceOr(source, whole), used, 0);
}

Result<int> giveMissingLoadBalancerAddresses(store::Tx& tx, AddressSource* source) {
  TIDE_ASSIGN_OR_RETURN(auto used, heldAddresses(tx));
  TIDE_ASSIGN_OR_RETURN(auto all, tx.loadBalancers());
  WholeSubnet whole(kLoadBalancerAddresses);
  int given = 0;
  for (model::LoadBalancer& lb : all) {
    if (!lb.ipAddress.empty()) {
      continue;
    }
    TIDE_ASSIGN_OR_RETURN(lb.ipAddress, chooseAddress(sourceOr(source, whole), used, 0));
    TIDE_RETURN_IF_ERROR(tx.putLoadBalancer(lb));
    ++given;
  }
  return given;
}

} // namespace tide::operations

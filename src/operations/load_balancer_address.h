// Load balancers' own addresses (127.2.B.x, docs/load-balancer.md "Addresses"): the one place
// that gives them out, for CreateLoadBalancer and for the server's start-up, which gives one to
// each load balancer stored before addresses were given. An address is held for as long as its
// load balancer is stored: deleting the load balancer frees it.
#pragma once

#include "operations/addresses.h"
#include "store/store.h"

#include <string>

namespace tide::operations {

// A free address of `source` (a kLoadBalancerAddresses space; null: all of 127.2.0.0/16,
// unprobed) that no stored load balancer holds. Errors: InsufficientFreeAddressesInSubnet.
Result<std::string> chooseLoadBalancerAddress(store::Tx& tx, AddressSource* source);

// Gives every stored load balancer without an address one (rows from before addresses); returns
// how many it gave. Errors as chooseLoadBalancerAddress, and the store's.
Result<int> giveMissingLoadBalancerAddresses(store::Tx& tx, AddressSource* source);

} // namespace tide::operations

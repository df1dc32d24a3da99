// Choosing instances' private addresses and load balancers' own addresses. Addresses come from
// /24 blocks of a /16 of loopback (an AddressSpace: 127.1.0.0/16 for instances, 127.2.0.0/16
// for load balancers; block B is 127.S.B.0/24, giving out .1 to .254) that an AddressSource
// says this server may use, and an address is given out only when nothing of this server holds
// it and the source says nothing else on the host listens at it with the port asked for (for
// load balancers, port 0: at any port).
//
// The server wires a source backed by the host-wide claims registry and a bind probe (runtime);
// without one, launches use every block and probe nothing (unit tests, and as before).
#pragma once

#include "common/status.h"

#include <set>
#include <string>
#include <vector>

namespace tide::operations {

// A /16 of 127.0.0.0/8 cut into 256 blocks of a /24: 127.<second>.B.0/24.
struct AddressSpace {
  int second = 1; // 1: instances' private addresses; 2: load balancers' own addresses
  bool operator==(const AddressSpace&) const = default;
};
inline constexpr AddressSpace kInstanceAddresses{1};
inline constexpr AddressSpace kLoadBalancerAddresses{2};

// "127.1.0.0/16"
std::string describeSpace(AddressSpace space);

// Not thread-safe: used on the control thread.
class AddressSource {
public:
  virtual ~AddressSource() = default;
  // The blocks this server holds, in the order to fill them.
  virtual std::vector<int> blocks() = 0;
  // Claims one more block (when the held ones are full); error when none is left.
  virtual Result<int> claimBlock() = 0;
  // Whether ip:port is free on the host now (nothing else listens or is bound there); port 0:
  // nothing is bound to ip at any port.
  virtual bool isFree(const std::string& ip, int port) = 0;
  // The space its blocks are in.
  virtual AddressSpace space() const { return kInstanceAddresses; }
};

// All 256 blocks, nothing claimed, every address free: a single server's behaviour (unit tests).
class WholeSubnet final : public AddressSource {
public:
  explicit WholeSubnet(AddressSpace space = kInstanceAddresses) : space_(space) {}
  std::vector<int> blocks() override;
  Result<int> claimBlock() override;
  bool isFree(const std::string& ip, int port) override;
  AddressSpace space() const override { return space_; }

private:
  AddressSpace space_;
};

// "127.1.<block>.<host>" (127.2... in kLoadBalancerAddresses)
std::string blockAddress(int block, int host, AddressSpace space = kInstanceAddresses);
// The block of an address of the space; -1 for any other address.
int blockOf(const std::string& ip, AddressSpace space = kInstanceAddresses);

// The first address of the source's blocks (in its space) that is not in `used` (addresses
// this server's instances, or load balancers, hold) and is free on the host for `port`; it is added
// to `used`, and so are the addresses found taken by others, so that a batch probes each address
// once. When the held blocks have nothing left, claims one more block and tries it. Errors:
// InsufficientFreeAddressesInSubnet (no block left, or the new block's addresses are all taken
// by other programs, as when something listens on 0.0.0.0:port).
Result<std::string> chooseAddress(AddressSource& source, std::set<std::string>& used, int port);

} // namespace tide::operations

// Choosing instances' private addresses. Addresses come from /24 blocks of 127.1.0.0/16
// (block B is 127.1.B.0/24, giving out .1 to .254) that an AddressSource says this server may
// use, and an address is given out only when no instance of this server holds it and the
// source says nothing else on the host listens at it with the instance's port.
//
// The server wires a source backed by the host-wide claims registry and a bind probe (runtime);
// without one, launches use every block and probe nothing (unit tests, and as before).
#pragma once

#include "common/status.h"

#include <set>
#include <string>
#include <vector>

namespace tide::operations {

// Not thread-safe: used on the control thread.
class AddressSource {
public:
  virtual ~AddressSource() = default;
  // The blocks this server holds, in the order to fill them.
  virtual std::vector<int> blocks() = 0;
  // Claims one more block (when the held ones are full); error when none is left.
  virtual Result<int> claimBlock() = 0;
  // Whether ip:port is free on the host now (nothing else listens or is bound there).
  virtual bool isFree(const std::string& ip, int port) = 0;
};

// All 256 blocks, nothing claimed, every address free: today's single-server behaviour.
class WholeSubnet final : public AddressSource {
public:
  std::vector<int> blocks() override;
  Result<int> claimBlock() override;
  bool isFree(const std::string& ip, int port) override;
};

// "127.1.<block>.<host>"
std::string blockAddress(int block, int host);
// The block of an address of 127.1.0.0/16; -1 for any other address.
int blockOf(const std::string& ip);

// The first address of the source's blocks that is not in `used` (addresses this server's
// instances hold) and is free on the host for `port`; it is added to `used`, and so are the
// addresses found taken by others, so that a batch probes each address once. When the held
// blocks have nothing left, claims one more block and tries it. Errors:
// InsufficientFreeAddressesInSubnet (no block left, or the new block's addresses are all taken
// by other programs, as when something listens on 0.0.0.0:port).
Result<std::string> chooseAddress(AddressSource& source, std::set<std::string>& used, int port);

} // namespace tide::operations

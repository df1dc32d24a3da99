// Where this server's instances get their private addresses (127.1.0.0/16), and its load
// balancers their own (127.2.0.0/16): the blocks its data directory holds in the host-wide
// registry of that space (runtime/address_registry.h), each address checked with a probe
// (runtime/address_probe.h) before it is given out: the bind probe for an instance's port, for a
// load balancer (port 0) that nothing is bound to the address at all.
#pragma once

#include "operations/addresses.h"
#include "runtime/address_registry.h"

#include <string>
#include <vector>

namespace tide::server {

// Not thread-safe: used on the control thread.
class HostAddresses final : public operations::AddressSource {
public:
  HostAddresses(runtime::AddressRegistryOptions registry, std::string dataDir,
                operations::AddressSpace space = operations::kInstanceAddresses)
      : registry_(withSpace(std::move(registry), space)), dataDir_(std::move(dataDir)),
        space_(space) {}

  // Claims the data directory's blocks at start-up: those it held before, plus `wanted` (the
  // blocks of addresses its instances already have) where no running server holds them.
  Status claim(const std::vector<int>& wanted);

  std::vector<int> blocks() override { return blocks_; }
  Result<int> claimBlock() override;
  bool isFree(const std::string& ip, int port) override;
  operations::AddressSpace space() const override { return space_; }

  const std::string& registryPath() const { return registry_.path(); }

private:
  static runtime::AddressRegistryOptions withSpace(runtime::AddressRegistryOptions o,
                                                   operations::AddressSpace space) {
    o.space = operations::describeSpace(space);
    return o;
  }

  runtime::AddressRegistry registry_;
  std::string dataDir_;
  operations::AddressSpace space_;
  std::vector<int> blocks_;
};

// "127.1.3.0/24, 127.1.9.0/24" for start-up messages.
std::string describeBlocks(const std::vector<int>& blocks,
                           operations::AddressSpace space = operations::kInstanceAddresses);

} // namespace tide::server

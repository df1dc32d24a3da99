// Where this server's instances get their private addresses: the blocks its data directory
// holds in the host-wide registry (runtime/address_registry.h), each address checked with the
// bind probe (runtime/address_probe.h) before it is given out.
#pragma once

#include "operations/addresses.h"
#include "runtime/address_registry.h"

#include <string>
#include <vector>

namespace tide::server {

// Not thread-safe: used on the control thread.
class HostAddresses final : public operations::AddressSource {
public:
  HostAddresses(runtime::AddressRegistryOptions registry, std::string dataDir)
      : registry_(std::move(registry)), dataDir_(std::move(dataDir)) {}

  // Claims the data directory's blocks at start-up: those it held before, plus `wanted` (the
  // blocks of addresses its instances already have) where no running server holds them.
  Status claim(const std::vector<int>& wanted);

  std::vector<int> blocks() override { return blocks_; }
  Result<int> claimBlock() override;
  bool isFree(const std::string& ip, int port) override;

  const std::string& registryPath() const { return registry_.path(); }

private:
  runtime::AddressRegistry registry_;
  std::string dataDir_;
  std::vector<int> blocks_;
};

// "127.1.3.0/24, 127.1.9.0/24" for start-up messages.
std::string describeBlocks(const std::vector<int>& blocks);

} // namespace tide::server

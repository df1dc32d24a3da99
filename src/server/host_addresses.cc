#include "server/host_addresses.h"

#include "runtime/address_probe.h"

namespace tide::server {

Status HostAddresses::claim(const std::vector<int>& wanted) {
  TIDE_ASSIGN_OR_RETURN(auto held, registry_.claim(dataDir_, wanted));
  blocks_ = std::move(held);
  return Status::ok();
}

Result<int> HostAddresses::claimBlock() {
  auto block = registry_.claimAnother(dataDir_);
  if (block) {
    blocks_.push_back(*block);
  }
  return block;
}

bool HostAddresses::isFree(const std::string& ip, int port) {
  return port == 0 ? runtime::addressUnused(ip) : runtime::addressFree(ip, port);
}

std::string describeBlocks(const std::vector<int>& blocks, operations::AddressSpace space) {
  std::string out;
  for (int b : blocks) {
    out += (out.empty() ? "" : ", ") + operations::blockAddress(b, 0, space) + "/24";
  }
  return out;
}

} // namespace tide::server

#include "operations/addresses.h"

#include <charconv>

namespace tide::operations {

namespace {

constexpr int kBlocks = 256;
constexpr int kFirstHost = 1; // .0 and .255 of each /24 are never given out
constexpr int kLastHost = 254;

// The first usable address of the block; empty when there is none. Counts the addresses other
// programs hold in `taken`.
std::string firstFree(AddressSource& source, int block, std::set<std::string>& used, int port,
                      int& taken) {
  for (int host = kFirstHost; host <= kLastHost; ++host) {
    std::string ip = blockAddress(block, host, source.space());
    if (used.count(ip) != 0) {
      continue;
    }
    used.insert(ip);
    if (source.isFree(ip, port)) {
      return ip;
    }
    ++taken;
  }
  return "";
}

} // namespace

std::vector<int> WholeSubnet::blocks() {
  std::vector<int> all;
  for (int b = 0; b < kBlocks; ++b) {
    all.push_back(b);
  }
  return all;
}

Result<int> WholeSubnet::claimBlock() {
  return Status("InsufficientFreeAddressesInSubnet",
                "No free address is left in " + describeSpace(space_));
}

bool WholeSubnet::isFree(const std::string&, int) {
  return true;
}

std::string describeSpace(AddressSpace space) {
  return "127." + std::to_string(space.second) + ".0.0/16";
}

std::string blockAddress(int block, int host, AddressSpace space) {
  return "127." + std::to_string(space.second) + "." + std::to_string(block) + "." +
         std::to_string(host);
}

int blockOf(const std::string& ip, AddressSpace space) {
  std::string prefix = "127." + std::to_string(space.second) + ".";
  if (ip.compare(0, prefix.size(), prefix) != 0) {
    return -1;
  }
  const char* begin = ip.data() + prefix.size();
  const char* end = ip.data() + ip.size();
  int block = -1;
  auto [dot, ec] = std::from_chars(begin, end, block);
  if (ec != std::errc() || dot == begin || dot == end || *dot != '.' || block < 0 ||
      block >= kBlocks) {
    return -1;
  }
  return block;
}

Result<std::string> chooseAddress(AddressSource& source, std::set<std::string>& used, int port) {
  int taken = 0;
  for (int block : source.blocks()) {
    std::string ip = firstFree(source, block, used, port, taken);
    if (!ip.empty()) {
      return ip;
    }
  }
  TIDE_ASSIGN_OR_RETURN(auto more, source.claimBlock());
  int takenInNew = 0;
  std::string ip = firstFree(source, more, used, port, takenInNew);
  if (!ip.empty()) {
    return ip;
  }
  if (port == 0) {
    return Status("InsufficientFreeAddressesInSubnet",
                  "No free address in " + describeSpace(source.space()) + ": other programs " +
                      "use " + std::to_string(taken + takenInNew) + " of this server's addresses");
  }
  return Status("InsufficientFreeAddressesInSubnet",
                "No free private address for port " + std::to_string(port) + ": other programs " +
                    "listen on " + std::to_string(taken + takenInNew) +
                    " of this server's addresses (is something listening on 0.0.0.0:" +
                    std::to_string(port) + "?)");
}

} // namespace tide::operations

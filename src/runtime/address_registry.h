// The host-wide registry of address blocks: every tide server on the machine claims blocks of
// 127.1.0.0/16 (instances' private addresses) for its data directory here, so that two servers
// never hand out the same address. Load balancers' own addresses (127.2.0.0/16) are claimed the
// same way in a second file beside it (loadBalancerRegistryPath), so that servers from before
// load balancers had addresses, which drop lines they cannot read, never erase those claims.
//
// A space is cut into kAddressBlocks blocks of a /24 (block B is 127.1.B.0/24; a block gives
// out .1 to .254). The registry is one small text file, one claim per line:
//   BLOCK PID DATA_DIR
// (DATA_DIR is the canonical path and takes the rest of the line). Every read and rewrite holds
// flock(2) on the file itself, so servers starting at once see each other's claims.
//
// Claims are kept when a server stops (its instances keep running, and the next server on the
// same data directory gets the same blocks back). A claim whose server is gone (see
// AddressRegistryOptions::inUse) is released when its data directory no longer exists, and is
// taken over by another data directory only when no unclaimed block is left.
//
// Not thread-safe: one object per thread (the file lock orders processes, not threads).
#pragma once

#include "common/status.h"

#include <functional>
#include <string>
#include <vector>

namespace tide::runtime {

inline constexpr int kAddressBlocks = 256; // 127.1.0.0/24 .. 127.1.255.0/24

struct AddressClaim {
  int block = 0;       // 127.1.<block>.0/24
  int pid = 0;         // the server that claimed it (or last confirmed it)
  std::string dataDir; // that server's data directory (canonical path)
};

struct AddressRegistryOptions {
  std::string path;                   // the registry file; its folder is created when missing
  std::string space = "127.1.0.0/16"; // what its blocks cut, for messages
  int pid = 0;                        // written with this object's claims; 0: this process's pid
  // Whether the server behind a claim may still run (its blocks are then never taken). Empty:
  // claimInUse below. Tests give their own.
  std::function<bool(const AddressClaim&)> inUse;
};

class AddressRegistry {
public:
  explicit AddressRegistry(AddressRegistryOptions options);

  // The blocks dataDir holds (its claims now carry this object's pid), plus each block of
  // `wanted` that no live server holds (the blocks of instances it already has). When it then
  // holds none, claims one (as claimAnother). Errors: InsufficientFreeAddressesInSubnet when
  // every block is held; InternalError when the file cannot be read or written.
  Result<std::vector<int>> claim(const std::string& dataDir, const std::vector<int>& wanted);

  // Claims one more block for dataDir: the lowest unclaimed one (claims of servers that are gone
  // and whose data directory no longer exists count as unclaimed), else the lowest held by a
  // server that is gone. Errors as claim().
  Result<int> claimAnother(const std::string& dataDir);

  // Removes dataDir's claims (for a data directory being deleted).
  Status release(const std::string& dataDir);

  // Every claim in the file, by block.
  Result<std::vector<AddressClaim>> claims();

  const std::string& path() const { return options_.path; }

private:
  AddressRegistryOptions options_;
};

// Where the registry lives: /run/tide/address-ranges when that folder can be made and written,
// else $XDG_RUNTIME_DIR/tide/address-ranges, else /tmp/tide-<uid>/address-ranges. Servers of
// different users share a registry only in the first case; across registries the bind probe
// (address_probe.h) still keeps instances apart.
std::string defaultAddressRegistryPath();

// The registry of load balancers' address blocks that goes with the instances' registry at
// `instanceRegistry`: the same path with ".lb" appended.
std::string loadBalancerRegistryPath(const std::string& instanceRegistry);

// The default liveness test: the claim's pid is alive, or some process holds the flock on the
// data directory's server.lock (a server that started there and has not confirmed its claim
// yet), as /proc/locks lists it. A reused pid keeps a claim alive: never a wrong takeover.
bool claimInUse(const AddressClaim& claim);

} // namespace tide::runtime
